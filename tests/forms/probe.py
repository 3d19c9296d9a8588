"""Careless staff, scripted: signs in as each given account, follows the links of the pages it
reaches (each kind of page once, ids set aside), then posts every form it found with one
editable field at a time set to a value people mistype or attackers try. Fails when a link
answers 404 or 5xx, or a post answers 5xx: bad input must get a page that says what is wrong.

Standard library only. Usage (tests/forms/run starts a demo server and calls this):

    python3 probe.py URL PASSWORD EMAIL... [--pages N] [--posts N]
"""

import argparse
import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

# Values a form field gets in turn: empty, far too long, negative, beyond a double, not a
# number, an impossible date, a huge integer, a NUL byte, markup, padded digits, zero.
VALUES = ["", "x" * 3000, "-1", "1e309", "NaN", "2026-02-30", "9" * 20, "\0", "<script>", " 12 ", "0"]

# Links and forms left alone: signing out ends the probe's session; the account page can
# change the probe's own password; files and assets are not pages.
SKIP = re.compile(r"/logout|/account|/static/|\.ics\b|\.csv\b|/download|/export")
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Forms(HTMLParser):
    """The POST forms of a page: action and (name, value, type) of each field."""

    def __init__(self):
        super().__init__()
        self.forms, self.form, self.select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = {"action": a.get("action") or "", "post": (a.get("method") or "").lower() == "post", "fields": []}
            self.forms.append(self.form)
        elif self.form is None or not a.get("name"):
            if tag == "option" and self.select is not None and self.select[1] is None:
                self.select[1] = a.get("value", "")
            return
        elif tag == "input":
            kind = a.get("type", "text")
            checked = kind not in ("checkbox", "radio") or "checked" in a
            self.form["fields"].append([a["name"], a.get("value", "") if checked else None, kind])
        elif tag == "textarea":
            self.form["fields"].append([a["name"], "", "textarea"])
        elif tag == "select":
            self.select = [a["name"], None, "select"]
            self.form["fields"].append(self.select)

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None


class Staff:
    def __init__(self, base, email, password):
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        status, page = self.get("/login")
        fields = {"csrf": csrf_of(page), "next": "/", "email": email, "password": password}
        status, page = self.post("/login", list(fields.items()))
        if status != 200 or 'name="password"' in page:
            sys.exit(f"{email} could not sign in (HTTP {status})")

    def get(self, path):
        return self.answer(urllib.request.Request(self.base + path))

    def post(self, path, pairs):
        body = urllib.parse.urlencode(pairs).encode()
        return self.answer(urllib.request.Request(self.base + path, data=body))

    def answer(self, request):
        try:
            with self.http.open(request, timeout=60) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")


def csrf_of(page):
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    return found.group(1) if found else ""


def kind_of(path):
    return ID.sub("ID", path)


def probe(base, email, password, max_pages, max_posts):
    staff = Staff(base, email, password)
    failures, seen, queue, pages = [], {kind_of("/")}, ["/"], []
    while queue and len(pages) < max_pages:
        path = queue.pop(0)
        status, page = staff.get(path)
        if status == 404 or status >= 500:
            failures.append(f"GET {path}: {status}")
            continue
        pages.append((path, page))
        for href in re.findall(r'href="(/[^"#]*)"', page):
            href = href.replace("&amp;", "&")
            if not SKIP.search(href) and kind_of(href) not in seen:
                seen.add(kind_of(href))
                queue.append(href)

    posts, tried, answers = 0, set(), {}
    for path, page in pages:
        parser = Forms()
        parser.feed(page)
        for form in parser.forms:
            action = form["action"] or path
            if not form["post"] or SKIP.search(action) or not action.startswith("/"):
                continue
            key = (kind_of(action), tuple(f[0] for f in form["fields"]))
            if key in tried:
                continue
            tried.add(key)
            editable = [f[0] for f in form["fields"] if f[2] not in ("hidden", "submit") and f[0] != "csrf"]
            for name in editable:
                for value in VALUES:
                    if posts >= max_posts:
                        return failures, len(pages), posts, answers
                    # A fresh form token each time: a refused post may have rotated it.
                    _, fresh = staff.get(path)
                    pairs = [(n, value if n == name else v) for n, v, _ in form["fields"] if v is not None or n == name]
                    pairs = [(n, csrf_of(fresh) if n == "csrf" else v) for n, v in pairs]
                    status, _ = staff.post(action, pairs)
                    posts += 1
                    answers[status] = answers.get(status, 0) + 1
                    if status >= 500:
                        failures.append(f"POST {action} with {name}={value[:20]!r}: {status}")
    return failures, len(pages), posts, answers


def main():
    args = argparse.ArgumentParser()
    args.add_argument("url")
    args.add_argument("password")
    args.add_argument("emails", nargs="+")
    args.add_argument("--pages", type=int, default=1000, help="kinds of page per account")
    args.add_argument("--posts", type=int, default=100000, help="posts per account")
    a = args.parse_args()
    failed = []
    for email in a.emails:
        failures, pages, posts, answers = probe(a.url.rstrip("/"), email, a.password, a.pages, a.posts)
        answered = ", ".join(f"{n} × {status}" for status, n in sorted(answers.items()))
        print(f"{email}: {pages} kinds of page, {posts} posts ({answered}), {len(failures)} failures")
        failed += [f"{email}: {f}" for f in failures]
    for f in failed:
        print(f)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
