//! The ledger's pages on both databases: a place, a receipt (a bad DEA number sent back at its
//! field with what was typed), witnessed waste, a count with a discrepancy that needs its
//! explanation, the dispensing log as a page and as CSV, the reconciliation, the chain check,
//! and who may see what (the administrator without patient names, front desk nothing).

use store::Role;

use crate::support::TestApp;

/// Adds the place "Safe, Room A" as `client` and returns its id, read from the receipt form.
async fn add_the_safe(app: &TestApp, client: &reqwest::Client, token: &str) -> String {
    let res = app
        .post_form(
            client,
            "/ledger/location",
            token,
            &[("location_name", "Safe, Room A"), ("location_kind", "safe")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(client, "/ledger").await.text().await.unwrap();
    let marker = "<select id=\"location\" name=\"location\"><option value=\"";
    let at = html.find(marker).expect("the receipt form offers the safe") + marker.len();
    html[at..at + 36].to_owned()
}

/// A receipt of `containers` 50 mg/mL, 10 mL vials into the place `safe`, every field as the
/// form sends it (the supplier's DEA number at index 9).
fn receipt_form<'a>(containers: &'a str, safe: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("form", "vial"),
        ("mg_per_ml", "50"),
        ("ml", "10"),
        ("containers", containers),
        ("ndc", "0143-9508-10"),
        ("lot", "KET-88210"),
        ("expires_on", "2099-06-30"),
        ("supplier_name", "Example Medical Supply"),
        ("supplier_address", "1 Supply Road, Columbus, OH 43004"),
        ("supplier_dea", "RX1234563"),
        ("invoice", "INV-2211"),
        ("location", safe),
    ]
}

async fn a_nurse_keeps_the_ledger_and_the_owner_reads_it(app: &TestApp) {
    app.user("keeper@example.org", Role::Nurse).await;
    app.user_named("witness@example.org", "Wanda Witness", Role::Nurse)
        .await;
    app.user("owner@example.org", Role::Admin).await;
    app.user("desk@example.org", Role::FrontDesk).await;
    let nurse = app.signed_in("keeper@example.org").await;
    let token = app.csrf(&nurse, "/ledger").await;
    // A NUL byte (pasted text can carry one) is refused for any form before its page: on
    // PostgreSQL, whose text cannot hold one, this place's name was a 500. Nothing is stored.
    let res = app
        .post_form(
            &nurse,
            "/ledger/location",
            &token,
            &[
                ("location_name", "Safe\0, Room A"),
                ("location_kind", "safe"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("A field holds a NUL character, which pasted text can carry."),
        "{page}"
    );
    // No name and a kind that is not on the form: both said at their fields, nothing stored.
    let res = app
        .post_form(
            &nurse,
            "/ledger/location",
            &token,
            &[("location_name", " "), ("location_kind", "drawer")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("id=\"location_name-error\"")
            && page.contains("Give the place&#39;s name.")
            && page.contains("id=\"location_kind-error\"")
            && page.contains("Choose a safe or a locked cabinet."),
        "{page}"
    );
    let html = app.get(&nurse, "/ledger").await.text().await.unwrap();
    assert!(
        !html.contains("<select id=\"location\" name=\"location\"><option value=\""),
        "no place is offered for a receipt yet: {html}"
    );
    let safe = add_the_safe(app, &nurse, &token).await;
    let mut receipt = receipt_form("2", &safe);
    // A DEA number one digit short: refused at its field.
    receipt[9] = ("supplier_dea", "R1234563");
    let res = app
        .post_form(&nurse, "/ledger/receipt", &token, &receipt)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("two letters and seven digits"), "{html}");
    assert!(
        html.contains("value=\"Example Medical Supply\""),
        "typed values kept"
    );
    // A digit typed wrong: the check digit catches it, at the same field.
    receipt[9] = ("supplier_dea", "RX1234536");
    let res = app
        .post_form(&nurse, "/ledger/receipt", &token, &receipt)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("last digit of this DEA number does not match the others"),
        "{html}"
    );
    assert!(html.contains("value=\"RX1234536\""), "typed value kept");
    receipt[9] = ("supplier_dea", "RX1234563");
    // Not an NDC, then a lot number with a pasted escape sequence: each refused at its field,
    // nothing received.
    receipt[4] = ("ndc", "Probe text");
    let res = app
        .post_form(&nurse, "/ledger/receipt", &token, &receipt)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"ndc-error\""), "{html}");
    assert!(
        html.contains("An NDC is 10, 11 or 12 digits in three groups"),
        "{html}"
    );
    receipt[4] = ("ndc", "0143-9508-10");
    receipt[5] = ("lot", "KET\u{1b}[2J-88210");
    let res = app
        .post_form(&nurse, "/ledger/receipt", &token, &receipt)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"lot-error\""), "{html}");
    assert!(
        html.contains("The lot number holds a control character"),
        "{html}"
    );
    receipt[5] = ("lot", "KET-88210");
    // The same place again, in other letters' case: refused, one place kept.
    let res = app
        .post_form(
            &nurse,
            "/ledger/location",
            &token,
            &[("location_name", "safe, room a"), ("location_kind", "safe")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("A place of that name exists already.")
    );
    let res = app
        .post_form(&nurse, "/ledger/receipt", &token, &receipt)
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, "/ledger").await.text().await.unwrap();
    assert!(
        html.contains("ketamine HCl 50 mg/mL, 10 mL vial #2"),
        "{html}"
    );
    assert!(html.contains("500.0 mg (10.00 mL)"), "{html}");
    let marker = "<select id=\"container\" name=\"container\"><option value=\"\">Choose</option><option value=\"";
    let at = html.find(marker).expect("the entry form offers the vials") + marker.len();
    let vial = html[at..at + 36].to_owned();

    // Waste needs another nurse with their own password.
    let mut waste = vec![
        ("kind", "waste"),
        ("container", vial.as_str()),
        ("amount_mg", "30"),
        ("method", "emptied into the waste container"),
    ];
    let res = app.post_form(&nurse, "/ledger/entry", &token, &waste).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("A second person witnesses this")
    );
    waste.push(("witness_email", "witness@example.org"));
    waste.push(("witness_password", crate::support::PASSWORD));
    let res = app.post_form(&nurse, "/ledger/entry", &token, &waste).await;
    assert_eq!(res.status(), 303);
    // More than the vial holds is refused.
    waste[2] = ("amount_mg", "900");
    let res = app.post_form(&nurse, "/ledger/entry", &token, &waste).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("would take it below zero")
    );

    // A count that differs needs its explanation.
    let count = [("container", vial.as_str()), ("counted_mg", "460")];
    let res = app.post_form(&nurse, "/ledger/count", &token, &count).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("explain the difference"));
    // Too short an explanation: the count form keeps the vial chosen and what was typed, and
    // the entry form above it, which has fields of the same names, stays empty.
    let mut short = count.to_vec();
    short.push(("explanation", "spilt"));
    let res = app.post_form(&nurse, "/ledger/count", &token, &short).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(
            "id=\"count_explanation\" name=\"explanation\" type=\"text\" value=\"spilt\""
        ),
        "{html}"
    );
    assert!(
        html.contains("id=\"explanation\" name=\"explanation\" type=\"text\" value=\"\""),
        "{html}"
    );
    let count_select = &html[html.find("id=\"count_container\"").unwrap()..];
    let count_select = &count_select[..count_select.find("</select>").unwrap()];
    assert!(
        count_select.contains(&format!("value=\"{vial}\" selected")),
        "{count_select}"
    );
    let mut count = count.to_vec();
    // Typed as a nurse might, starting with a minus: in the CSV it must stay text, not become a
    // spreadsheet formula.
    count.push(("explanation", "-10 mg: spilt when drawing up, not recorded"));
    let res = app.post_form(&nurse, "/ledger/count", &token, &count).await;
    assert_eq!(res.status(), 303);

    // A move to a second place keeps what the vial holds.
    let res = app
        .post_form(
            &nurse,
            "/ledger/location",
            &token,
            &[
                ("location_name", "Cabinet, Room B"),
                ("location_kind", "cabinet"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, "/ledger").await.text().await.unwrap();
    let marker = "<option value=\"";
    let cabinet = html
        .match_indices(marker)
        .map(|(i, _)| &html[i + marker.len()..i + marker.len() + 36])
        .find(|id| html.contains(&format!("<option value=\"{id}\">Cabinet, Room B</option>")))
        .expect("the move form offers the cabinet")
        .to_owned();
    let res = app
        .post_form(
            &nurse,
            "/ledger/transfer",
            &token,
            &[
                ("container", vial.as_str()),
                ("to_location", cabinet.as_str()),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, "/ledger").await.text().await.unwrap();
    assert!(html.contains("Cabinet, Room B</td><td>460.0 mg"), "{html}");

    let log = app.get(&nurse, "/ledger/log").await.text().await.unwrap();
    for expected in [
        "Receipt",
        "Waste",
        "Count discrepancy",
        "-10.000 mg",
        "witnessed by Wanda Witness",
    ] {
        assert!(log.contains(expected), "{expected}: {log}");
    }
    let csv = app.get(&nurse, "/ledger/log?format=csv").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("entry,time,kind,container,amount,balance,patient,by,note"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 6, "{csv}");
    // The export names each account with its email, for a reader without the staff list.
    assert!(
        csv.contains("witnessed by Wanda Witness (witness@example.org)"),
        "{csv}"
    );
    assert!(
        csv.contains(",\"'-10 mg: spilt when drawing up, not recorded\""),
        "typed text that starts like a formula is written as text: {csv}"
    );
    assert!(
        csv.contains(",-10.000 mg (0.200 mL),"),
        "amounts are left as they are: {csv}"
    );
    // A receipt's paperwork reads as words, not as the JSON the ledger stores it in.
    assert!(
        csv.contains("ketamine HCl 50 mg/mL, 10 mL vial from Example Medical Supply, 1 Supply Road, Columbus, OH 43004 (DEA RX1234563); invoice INV-2211; NDC 0143-9508-10; lot KET-88210, expires 2099-06-30"),
        "{csv}"
    );
    assert!(!csv.contains("{\"\"supplier"), "{csv}");
    assert!(!log.contains("{&quot;supplier"), "{log}");
    assert!(log.contains("from Example Medical Supply"), "{log}");
    let res = app.post_form(&nurse, "/ledger/verify", &token, &[]).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Intact: 6 entries checked")
    );
    // The inventory records: the demo-free site has none yet; one taken now appears. A post
    // without one of the two buttons' values is told what to choose, and records nothing.
    let res = app
        .post_form(&nurse, "/ledger/inventory", &token, &[("inventory", "")])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("href=\"#inventory\">Choose which inventory to take"),
        "{html}"
    );
    let res = app
        .post_form(
            &nurse,
            "/ledger/inventory",
            &token,
            &[("inventory", "biennial")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let inv = app
        .get(&nurse, "/ledger/log?kind=inventory&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(inv.lines().count(), 1 + 3, "two vials and the site: {inv}");
    assert!(
        inv.lines()
            .skip(1)
            .all(|l| l.contains("Biennial inventory")),
        "{inv}"
    );
    assert!(
        inv.contains(",2 containers counted"),
        "the site's line: {inv}"
    );
    // A date that does not read is said, not replaced by another period.
    let res = app.get(&nurse, "/ledger/log?from=12/01/2026").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("as YYYY-MM-DD"));
    let recon = app
        .get(&nurse, "/ledger/reconciliation")
        .await
        .text()
        .await
        .unwrap();
    assert!(recon.contains("Every session"), "{recon}");

    // A vial wasted to empty leaves the stock on hand: the list and the forms offer it no
    // more, and the page counts it instead (it listed every vial ever received).
    waste[2] = ("amount_mg", "460");
    let res = app.post_form(&nurse, "/ledger/entry", &token, &waste).await;
    assert_eq!(res.status(), 303);
    let html = app.get(&nurse, "/ledger").await.text().await.unwrap();
    assert!(
        !html.contains(&vial),
        "the emptied vial is not offered: {html}"
    );
    assert!(!html.contains("Cabinet, Room B</td>"), "{html}");
    assert!(html.contains("1 emptied container is not listed"), "{html}");
    assert!(
        html.contains("ketamine HCl 50 mg/mL, 10 mL vial #2"),
        "the other vial is still in stock: {html}"
    );

    // The owner reads the reports but writes nothing; front desk sees none of it.
    let owner = app.signed_in("owner@example.org").await;
    assert_eq!(app.get(&owner, "/ledger/log").await.status(), 200);
    let owner_token = app.csrf(&owner, "/ledger").await;
    let res = app
        .post_form(&owner, "/ledger/entry", &owner_token, &waste)
        .await;
    assert_eq!(res.status(), 403);
    let desk = app.signed_in("desk@example.org").await;
    assert_eq!(app.get(&desk, "/ledger").await.status(), 403);
    assert_eq!(app.get(&desk, "/ledger/log").await.status(), 403);

    // An entry changed behind the application's back: the check's page is an alert that says
    // whom to tell, and the check is still recorded.
    app.tamper(
        "cs_ledger_append_only",
        "cs_ledger",
        "update cs_ledger set amount_mg = amount_mg + 1 where seq = 2",
    )
    .await;
    let checks = |events: &[store::AuditRecord]| {
        events
            .iter()
            .filter(|e| e.action == "ledger.verify")
            .count()
    };
    let before = checks(&app.audit().await);
    let page = app.check_page(&nurse, "/ledger/verify", &token).await;
    let alert = crate::support::alert_of(&page);
    assert!(alert.contains("BROKEN: "), "{alert}");
    assert!(
        alert.contains(
            "Something changed the ledger outside Ketaflow: tell the responsible prescriber"
        ),
        "{alert}"
    );
    assert!(page.contains("href=\"/ledger\""), "{page}");
    assert_eq!(checks(&app.audit().await), before + 1);
}

crate::on_both!(a_nurse_keeps_the_ledger_and_the_owner_reads_it);

/// The start page of those who keep or read the ledger says what it needs done: here an
/// initial inventory never taken while stock is held, then a biennial inventory overdue, gone
/// once it is taken; the ledger page says when the last was taken and the next is due.
async fn the_start_page_says_what_the_ledger_needs_done(app: &TestApp) {
    let keeper = app.user("keeper@example.org", Role::Nurse).await;
    app.user("owner@example.org", Role::Admin).await;
    app.user("desk@example.org", Role::FrontDesk).await;
    let nurse = app.signed_in("keeper@example.org").await;
    let owner = app.signed_in("owner@example.org").await;
    let desk = app.signed_in("desk@example.org").await;
    let token = app.csrf(&nurse, "/ledger").await;
    let safe = add_the_safe(app, &nurse, &token).await;
    let home = |client| async move { app.get(client, "/").await.text().await.unwrap() };
    assert!(!home(&nurse).await.contains("Controlled substances"));
    let res = app
        .post_form(&nurse, "/ledger/receipt", &token, &receipt_form("2", &safe))
        .await;
    assert_eq!(res.status(), 303);
    for client in [&nurse, &owner] {
        let page = home(client).await;
        assert!(
            page.contains("Controlled substances: to see to (1)")
                && page.contains(
                    "<strong>No initial inventory is recorded, while the ledger holds stock.</strong>"
                ),
            "{page}"
        );
    }
    assert!(!home(&desk).await.contains("Controlled substances"));
    let ledger = app.get(&nurse, "/ledger").await.text().await.unwrap();
    assert!(ledger.contains("No inventory is recorded."), "{ledger}");
    assert!(ledger.contains("Take the initial inventory"), "{ledger}");

    // An initial inventory taken two years and five days ago (in the clinic's zone).
    let zone = jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap();
    let today = jiff::Timestamp::now().to_zoned(zone.clone()).date();
    let taken_on = today
        .checked_sub(jiff::Span::new().years(2).days(5))
        .unwrap();
    let site = app.db.store.first_site().await.unwrap().unwrap().id;
    app.db
        .store
        .take_inventory(
            &store::Actor::user(&keeper),
            &site,
            clinical::ledger::EntryKind::InitialInventory,
            taken_on.at(12, 0, 0, 0).to_zoned(zone).unwrap().timestamp(),
        )
        .await
        .unwrap();
    let due = clinical::ledger::next_inventory_due(taken_on);
    let page = home(&nurse).await;
    assert!(
        page.contains(&format!(
            "<strong>The biennial inventory: overdue since {due}.</strong>"
        )),
        "{page}"
    );
    let ledger = app.get(&nurse, "/ledger").await.text().await.unwrap();
    assert!(
        ledger.contains(&format!(
            "The last inventory: initial inventory on {taken_on}. The next, the biennial inventory, was due by {due}"
        )),
        "{ledger}"
    );
    assert!(!ledger.contains("Take the initial inventory"), "{ledger}");

    // Taken today: nothing to see to, and the next is two years on.
    let res = app
        .post_form(
            &nurse,
            "/ledger/inventory",
            &token,
            &[("inventory", "biennial")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(!home(&nurse).await.contains("Controlled substances"));
    let ledger = app.get(&nurse, "/ledger").await.text().await.unwrap();
    assert!(
        ledger.contains(&format!(
            "The last inventory: biennial inventory on {today}. The next, the biennial inventory, is due by {}",
            clinical::ledger::next_inventory_due(today)
        )),
        "{ledger}"
    );
}

crate::on_both!(the_start_page_says_what_the_ledger_needs_done);

/// A ledger report holds at most `limits.report_lines` lines: the page says it shows the first
/// ones, the CSV of such a period is refused whole, and the inventory records are chosen before
/// the bound (they were filtered after it, so a period's first entries hid its inventories).
#[tokio::test]
async fn a_report_longer_than_its_bound_says_so_and_is_not_exported_cut_short() {
    let app = TestApp::spawn_full(
        store::Backend::Sqlite,
        false,
        web::Limits {
            report_lines: 6,
            ..web::Limits::default()
        },
    )
    .await;
    app.user("keeper@example.org", Role::Nurse).await;
    let nurse = app.signed_in("keeper@example.org").await;
    let token = app.csrf(&nurse, "/ledger").await;
    let safe = add_the_safe(&app, &nurse, &token).await;
    // Five vials received (entries 1 to 5), then the biennial inventory (6 to 11: each vial
    // and the site).
    let receipt = receipt_form("5", &safe);
    let res = app
        .post_form(&nurse, "/ledger/receipt", &token, &receipt)
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &nurse,
            "/ledger/inventory",
            &token,
            &[("inventory", "biennial")],
        )
        .await;
    assert_eq!(res.status(), 303);

    let log = app.get(&nurse, "/ledger/log").await.text().await.unwrap();
    assert!(
        log.contains("Only the first 6 entries are shown; choose a shorter period"),
        "{log}"
    );
    let csv = app.get(&nurse, "/ledger/log?format=csv").await;
    assert_eq!(csv.status(), 422);
    assert!(
        csv.text()
            .await
            .unwrap()
            .contains("The period is too long to export")
    );
    // The six inventory lines are all there, the last being the site's.
    let inv = app
        .get(&nurse, "/ledger/log?kind=inventory&format=csv")
        .await;
    assert_eq!(inv.status(), 200);
    let inv = inv.text().await.unwrap();
    assert_eq!(inv.lines().count(), 1 + 6, "{inv}");
    assert!(
        inv.lines()
            .skip(1)
            .all(|l| l.contains("Biennial inventory")),
        "{inv}"
    );
    assert!(inv.contains("the whole site"), "{inv}");
    app.finish().await;
}

/// An opened vial is drawn from for `ledger.opened_vial_days` (28) days after its first dose:
/// past them it is left out of what a session is offered and picks, and flagged on the ledger
/// and the start page with what to do.
async fn an_opened_vial_is_not_used_past_its_days(app: &TestApp) {
    let keeper = app.user("keeper@example.org", Role::Nurse).await;
    let nurse = app.signed_in("keeper@example.org").await;
    let token = app.csrf(&nurse, "/ledger").await;
    let safe = add_the_safe(app, &nurse, &token).await;
    let res = app
        .post_form(&nurse, "/ledger/receipt", &token, &receipt_form("2", &safe))
        .await;
    assert_eq!(res.status(), 303);
    let store = &app.db.store;
    let site = store.first_site().await.unwrap().unwrap().id;
    let actor = store::Actor::user(&keeper);
    let zone = jiff::tz::TimeZone::get(crate::support::CLINIC_ZONE).unwrap();
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(zone.clone()).date();
    let stock = store.cs_stock(&site).await.unwrap();
    let (first, second) = (stock[0].id.clone(), stock[1].id.clone());
    // The first vial was opened 30 days ago, the second 3 days ago.
    let first_opened = crate::support::opened_days_ago(app, &actor, &site, &first, 30).await;
    let second_opened = crate::support::opened_days_ago(app, &actor, &site, &second, 3).await;
    let from = first_opened
        .checked_add(jiff::Span::new().days(28))
        .unwrap();
    let ledger = app.get(&nurse, "/ledger").await.text().await.unwrap();
    let flagged = format!(
        "ketamine HCl 50 mg/mL, 10 mL vial #1 of lot KET-88210 was opened on {first_opened} and is not used from {from}; it holds 480.0 mg (9.60 mL): waste it with a witness"
    );
    assert!(ledger.contains(&flagged), "{ledger}");
    assert!(
        ledger.contains(&format!(
            "<td>{second_opened}, not used from {}</td>",
            second_opened
                .checked_add(jiff::Span::new().days(28))
                .unwrap()
        )),
        "{ledger}"
    );
    let home = app.get(&nurse, "/").await.text().await.unwrap();
    assert!(home.contains(&format!("{flagged}.")), "{home}");

    // A session is offered the lot without the old vial, and a dose is drawn from the newer.
    let rule = clinical::ledger::StockRule {
        today,
        zone,
        opened_vial_days: clinical::ledger::OPENED_VIAL_DAYS,
    };
    let lots = store.lots_in_stock(&site, false, &rule).await.unwrap();
    assert_eq!(
        lots.iter()
            .map(|l| (l.containers, l.held_mg))
            .collect::<Vec<_>>(),
        [(1, 480.0)]
    );
    let picked = store
        .pick_containers(&site, &lots[0].id, 40.0, &rule)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(picked, std::slice::from_ref(&second));
    // Nothing is left to draw more than the newer vial holds.
    assert!(
        store
            .pick_containers(&site, &lots[0].id, 500.0, &rule)
            .await
            .unwrap()
            .is_err()
    );
    // With 0 days every vial is single use: neither opened vial is offered.
    let single_use = clinical::ledger::StockRule {
        opened_vial_days: 0,
        ..rule
    };
    assert!(
        store
            .lots_in_stock(&site, false, &single_use)
            .await
            .unwrap()
            .is_empty()
    );
}

crate::on_both!(an_opened_vial_is_not_used_past_its_days);
