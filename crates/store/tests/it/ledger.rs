//! The controlled-substance ledger on both databases: every entry kind and every refusal,
//! twenty administrations at once from one vial, and a ledger altered, extended and cut behind
//! the application's back (triggers dropped) found out by `verify_ledger` at that entry.

use clinical::ledger::{EntryKind, Form, LedgerRefusal, TextField};
use clinical::patient::Email;
use clinical::text::TextProblem;
use store::{
    Actor, Backend, LoginSettings, NewEntry, PasswordHash, Receipt, Role, Supplier, Witness,
};

use crate::support::{TestDb, t0, today};

const PASSWORD: &str = "correct horse battery";

async fn clinic(db: &TestDb) -> (store::Site, Vec<store::User>, String) {
    let system = Actor::system("test");
    let site = db.clinic().await;
    let mut users = Vec::new();
    for (email, role) in [
        ("nurse.a@example.org", Role::Nurse),
        ("nurse.b@example.org", Role::Nurse),
        ("desk@example.org", Role::FrontDesk),
    ] {
        users.push(
            db.store
                .create_user(
                    &system,
                    &site.id,
                    store::NewUser {
                        email: &Email::parse(email).unwrap(),
                        display_name: email,
                        role,
                        password: &PasswordHash::new(PASSWORD).unwrap(),
                    },
                    t0(),
                )
                .await
                .unwrap(),
        );
    }
    let safe = db
        .store
        .add_cs_location(
            &Actor::user(&users[0]),
            &site.id,
            &place("Safe, Room A", "safe"),
            t0(),
        )
        .await
        .unwrap()
        .unwrap();
    (site, users, safe)
}

fn supplier() -> Supplier {
    Supplier {
        name: "Example Medical Supply".into(),
        address: "1 Supply Road, Columbus, OH 43004".into(),
        dea_number: "rx1234563".into(),
        invoice: "INV-2211".into(),
    }
}

/// `count` vials of 100 mg/mL, 1 mL each, received into `place` today; their ids.
async fn vials_of_100_mg(
    db: &TestDb,
    nurse: &Actor,
    site: &store::SiteId,
    place: &str,
    count: u32,
) -> Vec<String> {
    let sup = supplier();
    db.store
        .receive_stock(
            nurse,
            site,
            &Receipt {
                form: Form::Vial {
                    mg_per_ml: 100,
                    ml: 1.0,
                },
                ndc: "0143-9510-10",
                lot: "KET-100",
                expires_on: "2028-01-31".parse().unwrap(),
                supplier: &sup,
                containers: count,
                location_id: place,
            },
            t0(),
        )
        .await
        .unwrap()
        .unwrap()
}

/// Writes an entry with witnessing on, today.
async fn write(
    s: &store::Store,
    actor: &Actor,
    site: &store::SiteId,
    e: NewEntry<'_>,
) -> Result<store::EntryRecord, LedgerRefusal> {
    s.write_ledger_entry(actor, site, &e, true, today(), t0())
        .await
        .unwrap()
}

async fn every_entry_kind_and_every_refusal(db: &TestDb) {
    let (site, users, safe) = clinic(db).await;
    let nurse = Actor::user(&users[0]);
    let s = &db.store;
    let vial = Form::Vial {
        mg_per_ml: 50,
        ml: 10.0,
    };
    let sup = supplier();
    let receipt = |form, supplier| Receipt {
        form,
        ndc: "0143-9508-10",
        lot: "KET-88210",
        expires_on: "2028-06-30".parse().unwrap(),
        supplier,
        containers: 2,
        location_id: &safe,
    };
    // A receipt needs a real product and the supplier's whole record.
    let bad_dea = Supplier {
        dea_number: "R123".into(),
        ..supplier()
    };
    assert_eq!(
        s.receive_stock(&nurse, &site.id, &receipt(vial, &bad_dea), t0())
            .await
            .unwrap(),
        Err(LedgerRefusal::DeaNumber)
    );
    let no_name = Supplier {
        name: " ".into(),
        ..supplier()
    };
    assert!(matches!(
        s.receive_stock(&nurse, &site.id, &receipt(vial, &no_name), t0())
            .await
            .unwrap(),
        Err(LedgerRefusal::Text {
            field: TextField::SupplierName,
            ..
        })
    ));
    // A pasted escape sequence in the lot number, an NDC that is not one: refused before
    // anything is chained.
    let pasted = Receipt {
        lot: "24A\u{1b}[2J117",
        ..receipt(vial, &sup)
    };
    assert!(matches!(
        s.receive_stock(&nurse, &site.id, &pasted, t0())
            .await
            .unwrap(),
        Err(LedgerRefusal::Text {
            field: TextField::Lot,
            problem: TextProblem::Unreadable
        })
    ));
    let not_an_ndc = Receipt {
        ndc: "Probe text",
        ..receipt(vial, &sup)
    };
    assert_eq!(
        s.receive_stock(&nurse, &site.id, &not_an_ndc, t0())
            .await
            .unwrap(),
        Err(LedgerRefusal::Ndc)
    );
    let odd = Form::Vial {
        mg_per_ml: 25,
        ml: 10.0,
    };
    assert_eq!(
        s.receive_stock(&nurse, &site.id, &receipt(odd, &sup), t0())
            .await
            .unwrap(),
        Err(LedgerRefusal::Strength)
    );
    let ids = s
        .receive_stock(&nurse, &site.id, &receipt(vial, &sup), t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ids.len(), 2);
    let (v1, v2) = (ids[0].as_str(), ids[1].as_str());

    // An administration, then the remainder wasted with a witness.
    let given = write(
        s,
        &nurse,
        &site.id,
        NewEntry::new(EntryKind::Administration, v1, 40.0),
    )
    .await
    .unwrap();
    assert_eq!(given.balance_mg, 460.0);
    let waste = |witness| NewEntry {
        witness,
        method: Some("drawn into a syringe and emptied into the waste container"),
        ..NewEntry::new(EntryKind::Waste, v1, 460.0)
    };
    assert_eq!(
        write(s, &nurse, &site.id, waste(None)).await,
        Err(LedgerRefusal::WitnessMissing)
    );
    let sign_in = LoginSettings::default();
    let me = Witness {
        email: "nurse.a@example.org",
        password: PASSWORD,
        sign_in: &sign_in,
    };
    assert_eq!(
        write(s, &nurse, &site.id, waste(Some(me))).await,
        Err(LedgerRefusal::WitnessIsActor)
    );
    let wrong = Witness {
        email: "nurse.b@example.org",
        password: "not theirs",
        sign_in: &sign_in,
    };
    assert_eq!(
        write(s, &nurse, &site.id, waste(Some(wrong))).await,
        Err(LedgerRefusal::WitnessPassword)
    );
    // Front desk cannot witness.
    let desk = Witness {
        email: "desk@example.org",
        password: PASSWORD,
        sign_in: &sign_in,
    };
    assert_eq!(
        write(s, &nurse, &site.id, waste(Some(desk))).await,
        Err(LedgerRefusal::WitnessNotStaff)
    );
    let other = Witness {
        email: "nurse.b@example.org",
        password: PASSWORD,
        sign_in: &sign_in,
    };
    let wasted = write(s, &nurse, &site.id, waste(Some(other)))
        .await
        .unwrap();
    assert_eq!(wasted.balance_mg, 0.0);
    assert_eq!(wasted.witness.as_deref(), Some("nurse.b@example.org"));
    // Nothing is left: a further take is refused and changes nothing.
    assert_eq!(
        write(
            s,
            &nurse,
            &site.id,
            NewEntry::new(EntryKind::Administration, v1, 1.0)
        )
        .await,
        Err(LedgerRefusal::BelowZero {
            balance_mg: 0.0,
            amount_mg: 1.0
        })
    );

    // Counts: a match, a difference without and with an explanation, then a correction.
    let count = s
        .count_container(&nurse, &site.id, v2, 500.0, None, today(), t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(count.kind, EntryKind::Count);
    assert_eq!(
        s.count_container(&nurse, &site.id, v2, 480.0, None, today(), t0())
            .await
            .unwrap(),
        Err(LedgerRefusal::ExplanationMissing)
    );
    // An explanation with a pasted bell is refused at its field, not chained.
    assert_eq!(
        s.count_container(
            &nurse,
            &site.id,
            v2,
            480.0,
            Some("Short by 20 mg\u{7}"),
            today(),
            t0()
        )
        .await
        .unwrap(),
        Err(LedgerRefusal::Text {
            field: TextField::Explanation,
            problem: TextProblem::Unreadable
        })
    );
    let off = s
        .count_container(
            &nurse,
            &site.id,
            v2,
            480.0,
            Some("meniscus read wrong at the last count"),
            today(),
            t0(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (off.kind, off.amount_mg, off.balance_mg),
        (EntryKind::Discrepancy, -20.0, 480.0)
    );
    let fixed = write(
        s,
        &nurse,
        &site.id,
        NewEntry {
            explanation: Some("recount with the pharmacist: 500 mg"),
            corrects_seq: Some(off.seq),
            ..NewEntry::new(EntryKind::Correction, v2, 20.0)
        },
    )
    .await
    .unwrap();
    assert_eq!(fixed.balance_mg, 500.0);

    // Return, breakage (witnessed) and a loss, which opens the DEA tasks. A witness named
    // is a witness checked, even where the kind needs none: a wrong password is refused, not
    // recorded as witnessed.
    assert_eq!(
        write(
            s,
            &nurse,
            &site.id,
            NewEntry {
                method: Some("reverse distributor"),
                witness: Some(wrong),
                ..NewEntry::new(EntryKind::Return, v2, 100.0)
            }
        )
        .await,
        Err(LedgerRefusal::WitnessPassword)
    );
    assert_eq!(
        write(
            s,
            &nurse,
            &site.id,
            NewEntry {
                method: Some("reverse distributor"),
                ..NewEntry::new(EntryKind::Return, v2, 100.0)
            }
        )
        .await
        .unwrap()
        .balance_mg,
        400.0
    );
    assert_eq!(
        write(
            s,
            &nurse,
            &site.id,
            NewEntry {
                witness: Some(other),
                explanation: Some("vial cracked when dropped, 10 mg lost"),
                ..NewEntry::new(EntryKind::Breakage, v2, 10.0)
            }
        )
        .await
        .unwrap()
        .balance_mg,
        390.0
    );
    assert_eq!(
        write(
            s,
            &nurse,
            &site.id,
            NewEntry::new(EntryKind::Loss, v2, 10.0)
        )
        .await,
        Err(LedgerRefusal::ExplanationMissing)
    );
    let lost = write(
        s,
        &nurse,
        &site.id,
        NewEntry {
            explanation: Some("10 mg short at the evening count, not found"),
            ..NewEntry::new(EntryKind::Loss, v2, 10.0)
        },
    )
    .await
    .unwrap();
    let tasks = s.open_dea_tasks(&site.id).await.unwrap();
    let (notice, form) = clinical::ledger::dea_deadlines(today());
    assert_eq!(
        tasks,
        vec![
            ("field_division_notice".to_owned(), notice, lost.seq),
            ("form_106".to_owned(), form, lost.seq)
        ]
    );
    // A move to another place: out of the safe and into the cabinet, the balance kept.
    let cabinet = s
        .add_cs_location(&nurse, &site.id, &place("Cabinet, Room B", "cabinet"), t0())
        .await
        .unwrap()
        .unwrap();
    // The same name again, in other letters' case: one place per name.
    assert_eq!(
        s.add_cs_location(&nurse, &site.id, &place("cabinet, room b", "cabinet"), t0())
            .await
            .unwrap(),
        Err(store::PlaceNameTaken)
    );
    s.transfer_container(&nurse, &site.id, v2, &cabinet, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.transfer_container(&nurse, &site.id, v1, &cabinet, t0())
            .await
            .unwrap(),
        Err(LedgerRefusal::Empty)
    );
    // The notice is recorded as sent; the Form 106 stays open.
    assert!(
        s.complete_dea_task(
            &nurse,
            &site.id,
            lost.seq,
            "field_division_notice",
            today(),
            t0()
        )
        .await
        .unwrap()
    );
    assert_eq!(s.open_dea_tasks(&site.id).await.unwrap().len(), 1);
    // The biennial inventory counts what is held.
    assert_eq!(
        s.take_inventory(&nurse, &site.id, EntryKind::BiennialInventory, t0())
            .await
            .unwrap(),
        1
    );
    // The log of one kind is chosen before its bound: the one inventory line comes first.
    let inventory = s
        .dispensing_log(&site.id, t0(), t0(), &[EntryKind::BiennialInventory], 1)
        .await
        .unwrap();
    assert_eq!(
        inventory.iter().map(|r| r.entry.kind).collect::<Vec<_>>(),
        vec![EntryKind::BiennialInventory]
    );
    // The stock on hand leaves the emptied vial out and counts it.
    let held = s.cs_stock(&site.id).await.unwrap();
    assert_eq!(
        held.iter()
            .map(|c| (c.balance_mg, c.location.as_str()))
            .collect::<Vec<_>>(),
        vec![(380.0, "Cabinet, Room B")]
    );
    assert_eq!(s.cs_emptied(&site.id).await.unwrap(), 1);
    let both = s
        .cs_containers_among(&site.id, &[v1.to_owned(), v2.to_owned()])
        .await
        .unwrap();
    assert_eq!(
        both.iter().map(|c| c.balance_mg).collect::<Vec<_>>(),
        vec![0.0, 380.0]
    );
    let entries = s.ledger_entries(&site.id, t0(), t0()).await.unwrap();
    // Two receipts, the administration, the waste, the count, the discrepancy, its correction,
    // the return, the breakage, the loss, the transfer out and in, and the inventory of one
    // container and of the site.
    assert_eq!(entries.len(), 14);
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=14).collect::<Vec<_>>()
    );
    assert_eq!(s.verify_ledger().await.unwrap(), Ok(14));

    // A move to another site of the network: out here, in there, the vial now theirs.
    db.raw(&format!(
        "insert into sites (id, name, timezone, is_demo, created_at)
         values ('{OTHER_SITE}', 'North clinic', 'UTC', 0, 0)"
    ))
    .await;
    let other = store::SiteId::parse(OTHER_SITE).unwrap();
    let north = s
        .add_cs_location(&nurse, &other, &place("Safe, North", "safe"), t0())
        .await
        .unwrap()
        .unwrap();
    s.transfer_container(&nurse, &site.id, v2, &north, t0())
        .await
        .unwrap()
        .unwrap();
    assert!(s.cs_stock(&site.id).await.unwrap().is_empty());
    assert!(
        s.cs_containers_among(&site.id, &[v2.to_owned()])
            .await
            .unwrap()
            .is_empty(),
        "the vial is the other site's now"
    );
    let there = s.cs_stock(&other).await.unwrap();
    assert_eq!(
        (there[0].balance_mg, there[0].location.as_str()),
        (380.0, "Safe, North")
    );
    let theirs = s.ledger_entries(&other, t0(), t0()).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].kind, EntryKind::TransferIn);
    assert_eq!(s.verify_ledger().await.unwrap(), Ok(16));
}

const OTHER_SITE: &str = "0190e3a0-0000-7000-8000-00000000abcd";

async fn twenty_administrations_at_once_never_take_a_vial_below_zero(db: &TestDb) {
    let (site, users, safe) = clinic(db).await;
    let nurse = Actor::user(&users[0]);
    let ids = vials_of_100_mg(db, &nurse, &site.id, &safe, 1).await;
    let vial = ids[0].clone();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = db.store.clone();
            let nurse = nurse.clone();
            let site = site.id.clone();
            let vial = vial.clone();
            tokio::spawn(async move {
                store
                    .write_ledger_entry(
                        &nurse,
                        &site,
                        &NewEntry::new(EntryKind::Administration, &vial, 10.0),
                        true,
                        today(),
                        t0(),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut given = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => given += 1,
            Err(LedgerRefusal::BelowZero { .. }) => refused += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!((given, refused), (10, 10));
    assert!(db.store.cs_stock(&site.id).await.unwrap().is_empty());
    assert_eq!(db.store.cs_emptied(&site.id).await.unwrap(), 1);
    assert_eq!(db.store.verify_ledger().await.unwrap(), Ok(11));
}

async fn a_ledger_changed_behind_the_applications_back_fails_verify_at_that_entry(db: &TestDb) {
    let (site, users, safe) = clinic(db).await;
    let nurse = Actor::user(&users[0]);
    let sup = supplier();
    let ids = db
        .store
        .receive_stock(
            &nurse,
            &site.id,
            &Receipt {
                form: Form::SpravatoDevice,
                ndc: "50458-028-02",
                lot: "ESK-24117",
                expires_on: "2027-09-30".parse().unwrap(),
                supplier: &sup,
                containers: 3,
                location_id: &safe,
            },
            t0(),
        )
        .await
        .unwrap()
        .unwrap();
    for id in &ids {
        db.store
            .write_ledger_entry(
                &nurse,
                &site.id,
                &NewEntry::new(EntryKind::Administration, id, 28.0),
                true,
                today(),
                t0(),
            )
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(db.store.verify_ledger().await.unwrap(), Ok(6));
    // The database itself refuses changes while its triggers stand.
    for sql in [
        "update cs_ledger set amount_mg = 1 where seq = 2",
        "delete from cs_ledger where seq = 2",
    ] {
        let e = db.try_raw(sql).await.unwrap_err();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    match db.store.backend() {
        Backend::Sqlite => {
            db.raw("drop trigger cs_ledger_append_only").await;
            db.raw("drop trigger cs_ledger_no_delete").await;
        }
        Backend::Postgres => {
            db.raw("drop trigger cs_ledger_append_only on cs_ledger")
                .await;
            db.raw("drop trigger cs_ledger_no_delete on cs_ledger")
                .await;
        }
    }
    // Altered: the amount of entry 5.
    db.raw("update cs_ledger set amount_mg = 14 where seq = 5")
        .await;
    let broken = db.store.verify_ledger().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 5, "{broken}");
    assert!(broken.problem.contains("altered"), "{broken}");
    db.raw("update cs_ledger set amount_mg = 28 where seq = 5")
        .await;
    assert_eq!(db.store.verify_ledger().await.unwrap(), Ok(6));
    // Inserted: a forged entry after the last.
    db.raw(&format!(
        "insert into cs_ledger (seq, id, site_id, kind, container_id, amount_mg, balance_mg,
             actor_id, at, prev_hash, hash)
         values (7, 'forged', '{}', 'receipt', '{}', 28, 28, '{}', 0, 'x', 'y')",
        site.id, ids[0], users[0].id
    ))
    .await;
    let broken = db.store.verify_ledger().await.unwrap().unwrap_err();
    assert_eq!((broken.seq, broken.id.as_str()), (7, "forged"), "{broken}");
    db.raw("delete from cs_ledger where seq = 7").await;
    assert_eq!(db.store.verify_ledger().await.unwrap(), Ok(6));
    // Removed: entry 3.
    db.raw("delete from cs_ledger where seq = 3").await;
    let broken = db.store.verify_ledger().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 3, "{broken}");
    assert!(broken.problem.contains("missing"), "{broken}");
    // A receipt's details that are not what the ledger writes: the log says which column of
    // which entry does not decode, rather than showing something else.
    let receipts = db
        .store
        .dispensing_log(&site.id, t0(), t0(), &[EntryKind::Receipt], 10)
        .await
        .unwrap();
    assert!(matches!(
        receipts[0].details,
        Some(store::EntryDetails::Receipt { ref lot, .. }) if lot == "ESK-24117"
    ));
    db.raw("update cs_ledger set details = '{\"supplier\": 1}' where seq = 1")
        .await;
    match db.store.dispensing_log(&site.id, t0(), t0(), &[], 10).await {
        Err(store::StoreError::Corrupt(c)) => {
            assert_eq!((c.table, c.column), ("cs_ledger", "details"), "{c:?}")
        }
        other => panic!("{other:?}"),
    }
    let broken = db.store.verify_ledger().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 1, "and the chain calls it altered: {broken}");
}

/// Checks of the ledger while nurses record doses: each check reads one snapshot, so an entry
/// committed while it reads never looks like a head past the end or a container whose entries
/// do not add up (a false alarm of tampering).
async fn a_check_while_entries_are_written_reads_one_snapshot(db: &TestDb) {
    let (site, users, safe) = clinic(db).await;
    let nurse = Actor::user(&users[0]);
    let vials = vials_of_100_mg(db, &nurse, &site.id, &safe, 100).await;
    let writer = {
        let (store, nurse, site) = (db.store.clone(), nurse.clone(), site.id.clone());
        tokio::spawn(async move {
            for i in 0..150 {
                let e = NewEntry::new(EntryKind::Administration, &vials[i % vials.len()], 0.5);
                store
                    .write_ledger_entry(&nurse, &site, &e, true, today(), t0())
                    .await
                    .unwrap()
                    .unwrap();
            }
        })
    };
    let mut last = 0;
    while !writer.is_finished() {
        match db.store.verify_ledger().await.unwrap() {
            Ok(n) => {
                assert!(n >= last, "{n} entries after {last}");
                last = n;
            }
            Err(broken) => panic!("a false alarm while entries were written: {broken}"),
        }
    }
    writer.await.unwrap();
    assert_eq!(db.store.verify_ledger().await.unwrap(), Ok(100 + 150));
}

/// A ledger longer than one chunk of the check: the running balances and the links carry from
/// chunk to chunk, and an entry altered in the second chunk is found at its place.
async fn a_ledger_of_more_than_one_chunk_is_checked_across_the_chunks(db: &TestDb) {
    let (site, users, safe) = clinic(db).await;
    let nurse = Actor::user(&users[0]);
    let vials = vials_of_100_mg(db, &nurse, &site.id, &safe, 4).await;
    let doses = store::VERIFY_CHUNK + 60;
    for i in 0..doses {
        let e = NewEntry::new(EntryKind::Administration, &vials[i % vials.len()], 0.1);
        db.store
            .write_ledger_entry(&nurse, &site.id, &e, true, today(), t0())
            .await
            .unwrap()
            .unwrap();
    }
    let total = (4 + doses) as u64;
    assert_eq!(db.store.verify_ledger().await.unwrap(), Ok(total));

    // Between the chunks nothing is held open: the entries are read chunk by chunk after the
    // head and the balances are read in one short snapshot.
    let open = crate::support::OpenTransactions::new(db).await;
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |checked: u64, of: u64| {
        if checked < of {
            seen.lock().unwrap().push((checked, open.look()));
        }
    };
    let check = db.store.verify_ledger_with_progress(&progress).await;
    assert_eq!(check.unwrap(), Ok(total));
    let chunk = store::VERIFY_CHUNK as u64;
    assert_eq!(
        seen.into_inner().unwrap(),
        vec![(chunk, open.none().to_owned())]
    );

    let target = store::VERIFY_CHUNK as i64 + 30;
    match db.store.backend() {
        Backend::Sqlite => db.raw("drop trigger cs_ledger_append_only").await,
        Backend::Postgres => {
            db.raw("drop trigger cs_ledger_append_only on cs_ledger")
                .await
        }
    }
    db.raw(&format!(
        "update cs_ledger set amount_mg = amount_mg + 1 where seq = {target}"
    ))
    .await;
    let broken = db.store.verify_ledger().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, target, "{broken}");
    assert!(broken.problem.contains("altered"), "{broken}");

    // A second entry at the first chunk's last place, which takes the places' primary key
    // away first (on SQLite only by rebuilding the table). The next chunk is read from the
    // place after, so the walk alone would pass over the copy; the check looks for a shared
    // place first and names it, before the altered entry further on.
    let boundary = store::VERIFY_CHUNK as i64;
    match db.store.backend() {
        Backend::Sqlite => {
            db.raw(&format!(
                "pragma foreign_keys = off;
                 create table cs_ledger_rebuilt as select * from cs_ledger;
                 insert into cs_ledger_rebuilt select * from cs_ledger where seq = {boundary};
                 drop table cs_ledger;
                 alter table cs_ledger_rebuilt rename to cs_ledger;"
            ))
            .await
        }
        Backend::Postgres => {
            db.raw(&format!(
                "alter table cs_ledger drop constraint cs_ledger_pkey cascade;
                 alter table cs_ledger drop constraint cs_ledger_id_key;
                 insert into cs_ledger select * from cs_ledger where seq = {boundary};"
            ))
            .await
        }
    }
    let broken = db.store.verify_ledger().await.unwrap().unwrap_err();
    assert_eq!(
        (broken.seq, broken.id.as_str()),
        (boundary, "shared"),
        "{broken}"
    );
    assert!(
        broken
            .problem
            .contains("more than one entry claims this place"),
        "{broken}"
    );
}

crate::on_both!(
    a_check_while_entries_are_written_reads_one_snapshot,
    a_ledger_of_more_than_one_chunk_is_checked_across_the_chunks,
    every_entry_kind_and_every_refusal,
    twenty_administrations_at_once_never_take_a_vial_below_zero,
    a_ledger_changed_behind_the_applications_back_fails_verify_at_that_entry
);

fn place(name: &str, kind: &str) -> clinical::ledger::NewPlace {
    clinical::ledger::NewPlace::parse(name, kind).unwrap()
}
