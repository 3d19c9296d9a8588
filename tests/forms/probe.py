"""Careless staff, scripted: signs in as each given account, follows the links of the pages it
reaches (each kind of page twice at most, ids set aside), then posts every form it found with one
editable field at a time set to a value people mistype or attackers try, and every other field
filled in as a person would (a plausible value of the field's type within its limits), so that
the bad value is the only thing wrong and reaches as far into the server as it can (a witness
is the next account given, which shares the password in the demo). Fails when
a link answers 404 or 5xx, a post answers 5xx (bad input must get a page that says what is
wrong), a field of text accepts control characters, a refused form does not keep what was
typed, or a field's error is not tied to its field. Each form accepted as filled in is then
sent again several times at once with the same new values (two people booking one slot or
adding one place, a double click): a check and a write that two requests can race show there
as a 5xx.

Standard library only. Usage (tests/forms/run starts a demo server and calls this):

    python3 probe.py URL PASSWORD EMAIL... [--pages N] [--posts N]
"""

import argparse
import concurrent.futures
import datetime
import html
import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

# Text pasted with a terminal's escape sequence and a bell in it: a field of text that accepts it
# fails the probe (every such field refuses control characters; a password may hold anything).
CONTROL = "Pasted\x1b[2J text\x07"
TEXT_KINDS = ("text", "textarea", "email", "tel", "search", "url")

# Values a form field gets in turn: empty, far too long, negative, beyond a double, not a
# number, an impossible date, a huge integer, a NUL byte, markup, padded digits, zero, and
# pasted control characters.
VALUES = ["", "x" * 3000, "-1", "1e309", "NaN", "2026-02-30", "9" * 20, "\0", "<script>", " 12 ", "0", CONTROL]

# How many copies of an accepted form are sent at once.
BURST = 6

# Links and forms left alone: signing out ends the probe's session; the account page can
# change the probe's own password; files and assets are not pages.
SKIP = re.compile(r"/logout|/account|/static/|\.ics\b|\.csv\b|/download|/export")
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Forms(HTMLParser):
    """The POST forms of a page: action and fields. A field is a dict: name, kind (the input's
    type, or textarea, select or button: the first named button of the form, which a person
    presses), value (as the page filled it; None for a box not ticked), attrs (the tag's
    attributes) and, for a select, its options' values."""

    def __init__(self):
        super().__init__()
        self.forms, self.form, self.select, self.textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = {"action": a.get("action") or "", "post": (a.get("method") or "").lower() == "post", "fields": []}
            self.forms.append(self.form)
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            self.select["options"].append(value)
            if self.select["value"] is None or "selected" in a:
                self.select["value"] = value
        elif self.form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            checked = kind not in ("checkbox", "radio") or "checked" in a
            self.form["fields"].append(
                {"name": a["name"], "kind": kind, "value": a.get("value", "") if checked else None, "attrs": a})
        elif tag == "button" and a.get("type", "submit") == "submit":
            if not any(f["name"] == a["name"] for f in self.form["fields"]):
                self.form["fields"].append({"name": a["name"], "kind": "button", "value": a.get("value", ""), "attrs": a})
        elif tag == "textarea":
            self.textarea = {"name": a["name"], "kind": "textarea", "value": "", "attrs": a}
            self.form["fields"].append(self.textarea)
        elif tag == "select":
            self.select = {"name": a["name"], "kind": "select", "value": None, "attrs": a, "options": []}
            self.form["fields"].append(self.select)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


# Examples the pages give in a field's hint or error ("such as 72.5", "for example
# 1980-04-23", "(62701-1234)").
# A telephone number given as an example ("such as (217) 555-0142") is taken whole.
EXAMPLE = re.compile(r"(?:such as|for example|e\.g\.) (\(\d+\) [\d -]*\d|[\w.:/-]*\w)|\((\d[\d-]*\d)\)")


def texts_by_id(page):
    """The plain text of each element with an id (hints and errors are found by the ids a
    field's aria-describedby names)."""
    found = {}
    for m in re.finditer(r'<(p|span|div|small)\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</\1>', page, re.S):
        found[m.group(2)] = html.unescape(re.sub(r"<[^>]+>", "", m.group(3)))
    return found


# The least of a range a hint or error names ("from 5 to 720", "between 20 and 300", "is
# outside 50 to 300").
LEAST = re.compile(r"(?:from|between|outside) (\d+(?:\.\d+)?) (?:to|and) \d")


def example(field, texts):
    """A value the page suggests for `field` in its hint or error, if any: its example (not a
    plain word, as in "such as the monitor shows it"), the least of a range it names, or 1
    where it asks for a number."""
    said = " ".join(texts.get(i, "") for i in field["attrs"].get("aria-describedby", "").split())
    for found in EXAMPLE.finditer(said):
        value = found.group(1) or found.group(2)
        if not value.isalpha() or not value.islower():
            return value
    least = LEAST.search(said)
    if least:
        return least.group(1)
    return "1" if "number" in said else None


class Fresh(str):
    """A value that must not repeat from one post to the next (the name of a new place or
    patient, a new account's email, an appointment's day): `make(n)` gives the n-th value, n
    counted over every post of the probe that sends a value of the same `family`, so that
    values stay unique across forms and accounts."""

    sent = {}

    def __new__(cls, first, make, family="text"):
        made = super().__new__(cls, first)
        made.make, made.family = make, family
        return made

    def fresh(self):
        n = Fresh.sent[self.family] = Fresh.sent.get(self.family, 0) + 1
        return self.make(n)


def letters(n):
    """1 → a, 26 → z, 27 → aa: a suffix for names, which may refuse digits."""
    out = ""
    while n:
        n, d = divmod(n - 1, 26)
        out = "abcdefghijklmnopqrstuvwxyz"[d] + out
    return out


def next_weekday(day):
    """`day`, or the first Monday to Friday after it: appointments are booked on working days."""
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def working_day(day, n):
    """The n-th working day after `day`."""
    for _ in range(n):
        day = next_weekday(day + datetime.timedelta(days=1))
    return day


# The demo clinic's time zone (crates/store/src/demo.rs): its pages judge "today" and "in the
# future" by the clinic's calendar, which differs from the machine's (UTC) for hours each night.
CLINIC_TZ = ZoneInfo("America/New_York")


def clinic_today():
    """Today on the demo clinic's calendar."""
    return datetime.datetime.now(CLINIC_TZ).date()


def plausible(field, texts, form):
    """What a person would put in `field` when the page left it empty: what its hint or error
    suggests, or else a value of its type within its min, max, minlength and maxlength. A
    password is the probe's own (a witness signs with theirs: the demo's accounts share one);
    an email beside a password is a colleague's (the witness); a name that must match the
    record is the name the page is about."""
    a, kind, name = field["attrs"], field["kind"], field["name"]
    said = " ".join(texts.get(i, "") for i in a.get("aria-describedby", "").split())
    if "name on the record" in said and form["subject"]:
        return form["subject"]
    given = example(field, texts)
    if given:
        return given
    today = clinic_today()
    if kind == "date":
        day = (today - datetime.timedelta(days=365 * 40)) if "birth" in name else today
        if any(f["kind"] == "time" for f in form["fields"]):
            # A day with a start time is an appointment's: a working day to come (after the
            # demo's own appointments, a booster months ahead), another for each post, so that
            # one booking does not take the next one's slot.
            first = next_weekday(today + datetime.timedelta(days=120))
            return Fresh(first.isoformat(), lambda n: working_day(first, n).isoformat(), "day")
        day = max(day.isoformat(), a.get("min", ""))
        return min(day, a["max"]) if a.get("max") else day
    if kind == "time":
        return a.get("min") or "10:00"
    if kind == "datetime-local":
        earliest = a.get("min") or f"{today.isoformat()}T10:00"
        day = datetime.date.fromisoformat(earliest[:10])
        if earliest[11:16] > "10:00":
            day += datetime.timedelta(days=1)
        return f"{next_weekday(day).isoformat()}T10:00"
    if kind == "number":
        return a.get("min") or a.get("max") or "1"
    if kind == "email":
        if signs(form):
            return form["peer"]
        return Fresh("probe@example.org", lambda n: f"probe.{letters(n)}@example.org")
    if kind == "tel":
        return "+1 555 010 0199"
    if kind == "password":
        return "probe-password-2026" if a.get("autocomplete") == "new-password" else form["password"]
    if a.get("inputmode") in ("numeric", "decimal"):
        return "1"
    if a.get("minlength", "").isdigit():
        sentence = "A sentence of the probe's text. "
        return (sentence * (int(a["minlength"]) // len(sentence) + 1)).strip()
    cut = int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None
    return Fresh("Probe text", lambda n: f"Probe text {letters(n)}"[-cut if cut else 0:])


def signs(form):
    """Whether the form asks for a password that signs (a witness's), not a new one."""
    return any(f["kind"] == "password" and f["attrs"].get("autocomplete") != "new-password"
               for f in form["fields"])


def filled(form, texts):
    """The (name, value) pairs a person would send: what the page filled in, empty fields given
    a plausible value, a required box ticked (and the first box of a group with none ticked), a
    radio group with nothing chosen given its first choice, a select left on its chosen (or
    first real) option, the first named button pressed."""
    pairs, groups, fields = [], set(), form["fields"]
    for f in fields:
        name, kind, value, a = f["name"], f["kind"], f["value"], f["attrs"]
        if kind == "radio":
            if name in groups:
                continue
            group = [g for g in fields if g["name"] == name]
            chosen = next((g for g in group if g["value"] is not None), group[0])
            groups.add(name)
            pairs.append((name, chosen["attrs"].get("value", "on")))
        elif kind == "checkbox":
            group = [g for g in fields if g["name"] == name]
            first_of_none = len(group) > 1 and group[0] is f and all(g["value"] is None for g in group)
            if value is not None or "required" in a or first_of_none:
                pairs.append((name, a.get("value", "on")))
        elif kind == "select":
            real = [o for o in f["options"] if o]
            pairs.append((name, value if value else (real[0] if real else "")))
        elif kind in ("hidden", "submit", "button") or value:
            pairs.append((name, value or ""))
        else:
            pairs.append((name, plausible(f, texts, form)))
    return pairs


class Staff:
    def __init__(self, base, email, password):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        status, page = self.get("/login")
        fields = {"csrf": csrf_of(page), "next": "/", "email": email, "password": password}
        status, page = self.post("/login", list(fields.items()))
        if status != 200 or 'name="password"' in page:
            sys.exit(f"{email} could not sign in (HTTP {status})")

    def get(self, path):
        return self.answer(urllib.request.Request(self.base + path))

    def post(self, path, pairs, http=None):
        body = urllib.parse.urlencode(pairs).encode()
        return self.answer(urllib.request.Request(self.base + path, data=body), http)

    def posts_at_once(self, path, pairs, n):
        """`n` copies of one post sent at once, each on its own connection (the sign-in's
        cookies shared); their statuses."""
        def one(_):
            http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
            return self.post(path, pairs, http)[0]
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            return list(pool.map(one, range(n)))

    def answer(self, request, http=None):
        try:
            with (http or self.http).open(request, timeout=60) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")


def unlinked_errors(page):
    """The field errors of a page that no field points to: each error's element needs an id
    that a field's (or its fieldset's) aria-describedby (or aria-labelledby, where the error
    is part of the field's label) names, so a screen reader says the error when the field is
    reached."""
    described = set()
    for ids in re.findall(r'aria-(?:describedby|labelledby)="([^"]*)"', page):
        described.update(ids.split())
    unlinked = []
    for m in re.finditer(r'<(p|span|div)\b([^>]*\bclass="field-error"[^>]*)>(.*?)</\1>', page, re.S):
        found = re.search(r'\bid="([^"]+)"', m.group(2))
        if not found or found.group(1) not in described:
            unlinked.append(html.unescape(re.sub(r"<[^>]+>", "", m.group(3))).strip()[:60])
    return unlinked


def lost_values(answer, action, path, sent, bad):
    """The fields of a refused form that come back without what was sent in them (the field
    with the bad value aside): a refusal must keep what was typed and chosen. Fields of text,
    dates, times and numbers, lists and boxes; a form the answer does not show again (a page
    that says what went wrong instead) is not looked at."""
    back = Forms()
    back.feed(answer)
    # Of the forms with this action (a list has one a row), the one whose hidden values (the
    # row's id) are those sent.
    hidden = lambda f: {(g["name"], g["value"]) for g in f["fields"] if g["kind"] == "hidden" and g["name"] != "csrf"}
    same = [f for f in back.forms if f["post"] and (f["action"] or path) == action
            and hidden(f) <= set(sent)]
    if not same:
        return []
    fields = same[0]["fields"]
    shown = {f["name"]: f["value"] or "" for f in fields if f["kind"] in KEPT_KINDS}
    # A choice the answer no longer offers (a container emptied, a set time rated meanwhile)
    # cannot stay chosen.
    offered = {f["name"]: f["options"] for f in fields if f["kind"] == "select"}
    lost = [n for n, v in sent if n in shown and n != bad and v and shown[n] != v
            and v in offered.get(n, [v])]
    # Boxes ticked and choices of a group: each must come back ticked.
    ticked = {(f["name"], f["attrs"].get("value", "on")) for f in fields
              if f["kind"] in ("checkbox", "radio") and f["value"] is not None}
    boxes = {(f["name"], f["attrs"].get("value", "on")) for f in fields if f["kind"] in ("checkbox", "radio")}
    lost += [n for n, v in sent if n != bad and (n, v) in boxes and (n, v) not in ticked]
    return list(dict.fromkeys(lost))


KEPT_KINDS = ("text", "email", "tel", "date", "time", "number", "search", "url", "select", "textarea")


def csrf_of(page):
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    return found.group(1) if found else ""


def kind_of(path):
    """A page's kind: its path with ids set aside, and numbers in its query (days, weeks, pages
    of a list) too, so a calendar's next and previous links do not make endless kinds."""
    path, _, query = ID.sub("ID", path).partition("?")
    return path + ("?" + re.sub(r"\d+", "N", query) if query else "")


def subject_of(page):
    """Whom a page is about: the name after " of " in its title ("Consent of Ada Park · Ketaflow")."""
    found = re.search(r"<title>[^<]* of ([^<·]+?) · ", page)
    return html.unescape(found.group(1)) if found else None


def probe(base, email, password, peer, max_pages, max_posts):
    """Probes as `email`; `peer` is a colleague's account, which witnesses where a form asks."""
    staff = Staff(base, email, password)
    # Each kind of page is visited twice at most, with different ids: one record can lack a
    # form another has (the administrator's own account has no password reset).
    failures, seen, queue, pages = [], {kind_of("/"): 1}, ["/"], []
    while queue and len(pages) < max_pages:
        path = queue.pop(0)
        status, page = staff.get(path)
        if status == 404 or status >= 500:
            failures.append(f"GET {path}: {status}")
            continue
        pages.append((path, page))
        for href in re.findall(r'href="(/[^"#]*)"', page):
            href = href.replace("&amp;", "&")
            if not SKIP.search(href) and seen.get(kind_of(href), 0) < 2 and href not in queue:
                seen[kind_of(href)] = seen.get(kind_of(href), 0) + 1
                queue.append(href)

    # Forms that accept the values a person would fill in, and the others with their first error.
    posts, tried, answers, accepted, refused_forms, sent = 0, set(), {}, 0, [], []

    def send(path, action, pairs):
        """Posts `pairs` to `action` with a fresh form token from `path` (a refused post may
        have rotated it) and counts the answer."""
        nonlocal posts
        _, page = staff.get(path)
        pairs = [(n, csrf_of(page) if n == "csrf" else v.fresh() if isinstance(v, Fresh) else v) for n, v in pairs]
        status, answer = staff.post(action, pairs)
        sent[:] = pairs
        posts += 1
        answers[status] = answers.get(status, 0) + 1
        return status, answer

    for path, page in pages:
        parser = Forms()
        parser.feed(page)
        for form in parser.forms:
            form.update(subject=subject_of(page), peer=peer, password=password)
            action = form["action"] or path
            if not form["post"] or SKIP.search(action) or not action.startswith("/"):
                continue
            key = (kind_of(action), tuple(f["name"] for f in form["fields"]))
            if key in tried:
                continue
            tried.add(key)
            base = filled(form, texts_by_id(page))
            kinds = {f["name"]: f["kind"] for f in form["fields"]}
            # A password that signs (a witness's) gets no bad values: wrong ones would lock the
            # account (the sign-in's lockout has tests of its own). A new password does.
            editable = list(dict.fromkeys(
                f["name"] for f in form["fields"]
                if f["kind"] not in ("hidden", "submit") and f["name"] != "csrf"
                and (f["kind"] != "password" or f["attrs"].get("autocomplete") == "new-password")))
            # The form as a person fills it first (nothing wrong), then each bad value alone.
            trials = [(None, None)] + [(name, value) for name in editable for value in VALUES]
            for name, value in trials:
                if posts >= max_posts:
                    return failures, len(pages), posts, answers, accepted, refused_forms
                pairs = [(n, v) for n, v in base if n != name] + ([(name, value)] if name else [])
                status, answer = send(path, action, pairs)
                # Refused as filled in (or taken: a slot booked already): take the examples the
                # errors give and fill in again (up to three times: one error can hide the
                # next), so the bad values that follow meet a form that is otherwise right.
                again = 3 if name is None else 0
                while again and status in (409, 422):
                    again -= 1
                    refused = Forms()
                    refused.feed(answer)
                    same = [f for f in refused.forms if (f["action"] or path) == action]
                    if not same:
                        break
                    said = texts_by_id(answer)
                    fresh = {n for n, v in base if isinstance(v, Fresh)}
                    for f in same[0]["fields"]:
                        if f["name"] in fresh or f["kind"] not in ("hidden", "button") and any(
                                i.endswith("-error") and i in said
                                for i in f["attrs"].get("aria-describedby", "").split()):
                            # Filled in again: what the error is about, and a value that must
                            # not repeat (the page echoes the one just sent).
                            f["value"] = ""
                    same[0].update(subject=form["subject"], peer=peer, password=password)
                    base = filled(same[0], said)
                    status, answer = send(path, action, base)
                if name is None and status < 400:
                    accepted += 1
                    # The same form again, BURST times at once, with new values shared by all.
                    _, page_now = staff.get(path)
                    same = [(n, csrf_of(page_now) if n == "csrf" else v.fresh() if isinstance(v, Fresh) else v)
                            for n, v in base]
                    for racing in staff.posts_at_once(action, same, BURST):
                        posts += 1
                        answers[racing] = answers.get(racing, 0) + 1
                        if racing >= 500:
                            failures.append(f"POST {action}, {BURST} at once as filled in: {racing}")
                elif name is None:
                    said = [t.strip() for i, t in texts_by_id(answer).items() if i.endswith("-error")]
                    refused_forms.append(f"{kind_of(action)} ({status}{': ' + said[0][:90] if said else ''})")
                if status >= 500:
                    what = f"{name}={value[:20]!r}" if name else "the values a person would fill in"
                    failures.append(f"POST {action} with {what}: {status}")
                elif value == CONTROL and status < 400 and kinds[name] in TEXT_KINDS:
                    failures.append(f"POST {action} accepted control characters in {name}: {status}")
                if status in (409, 422):
                    for lost in lost_values(answer, action, path, sent, name):
                        failures.append(f"POST {action}: what was typed in {lost} was not kept")
                if status in (409, 422):
                    for error in unlinked_errors(answer):
                        failures.append(f"POST {action}: the error \"{error}\" is not linked to its field")
    return failures, len(pages), posts, answers, accepted, refused_forms


def main():
    args = argparse.ArgumentParser()
    args.add_argument("url")
    args.add_argument("password")
    args.add_argument("emails", nargs="+")
    args.add_argument("--pages", type=int, default=1000, help="pages per account")
    args.add_argument("--posts", type=int, default=100000, help="posts per account")
    a = args.parse_args()
    failed = []
    for email in a.emails:
        peer = next((e for e in a.emails if e != email), email)
        failures, pages, posts, answers, accepted, refused = probe(
            a.url.rstrip("/"), email, a.password, peer, a.pages, a.posts)
        answered = ", ".join(f"{n} × {status}" for status, n in sorted(answers.items()))
        forms = accepted + len(refused)
        print(f"{email}: {pages} pages, {forms} forms ({accepted} accepted as filled in), "
              f"{posts} posts ({answered}), {len(failures)} failures")
        if refused:
            # Forms whose bad values meet an earlier refusal: where the probe reaches less deep.
            print(f"  refused as filled in: {', '.join(refused)}")
        failed += [f"{email}: {f}" for f in failures]
    for f in failed:
        print(f)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()


