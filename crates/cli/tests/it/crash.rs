//! Crash safety: the server is killed with SIGKILL again and again while clients register
//! patients, record assessments and post vitals through the API, and restarted. Afterwards no
//! acknowledged write is missing, no write is half there (each is one transaction with its
//! audit event), the audit chain verifies and SQLite's integrity check is ok.
//!
//! `KETAFLOW_CRASH_CYCLES=200 cargo test -p ketaflow --test it crash -- --nocapture` for a
//! longer run (the suite runs 20 cycles).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use store::testing::text_rows;

use crate::commands::{Server, ketaflow, run};

#[derive(Default)]
struct Acknowledged {
    patients: Vec<String>,
    assessments: Vec<String>,
    vitals_keys: Vec<String>,
    vitals_ids: Vec<String>,
    attempts: u64,
}

/// One client: patient, then an assessment for them, then a reading, until the server dies.
async fn writer(
    base: String,
    token: String,
    session: String,
    tag: String,
    stop: Arc<AtomicBool>,
) -> Acknowledged {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let mut ack = Acknowledged::default();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        ack.attempts += 1;
        let res = client
            .post(format!("{base}/api/v1/patients"))
            .bearer_auth(&token)
            .json(
                &json!({"given_name": "Kill", "family_name": format!("Crash{tag}x{i}"),
                          "date_of_birth": "1980-01-01", "sex": "female"}),
            )
            .send()
            .await;
        let Ok(res) = res else { break };
        if res.status() != 201 {
            break;
        }
        let Ok(body) = res.json::<Value>().await else {
            break;
        };
        let patient = body["id"].as_str().unwrap().to_owned();
        ack.patients.push(patient.clone());

        ack.attempts += 1;
        let res = client
            .post(format!("{base}/api/v1/patients/{patient}/assessments"))
            .bearer_auth(&token)
            .json(
                &json!({"instrument": "gad7", "answers": [1, 2, 1, 0, 1, 2, 1],
                          "time_point": "baseline"}),
            )
            .send()
            .await;
        let Ok(res) = res else { break };
        assert_eq!(res.status(), 201, "assessment");
        let Ok(body) = res.json::<Value>().await else {
            break;
        };
        ack.assessments
            .push(body["assessment"]["id"].as_str().unwrap().to_owned());

        ack.attempts += 1;
        let key = format!("crash-{tag}-{i}");
        let res = client
            .post(format!("{base}/api/v1/sessions/{session}/vitals"))
            .bearer_auth(&token)
            .header("Idempotency-Key", &key)
            .json(
                &json!({"observations": [{"taken_at": jiff::Timestamp::now().to_string(),
                          "systolic_mmhg": 120, "diastolic_mmhg": 80, "heart_rate_bpm": 70}]}),
            )
            .send()
            .await;
        let Ok(res) = res else { break };
        assert_eq!(res.status(), 201, "vitals");
        let Ok(body) = res.json::<Value>().await else {
            break;
        };
        ack.vitals_keys.push(key);
        for o in body["observations"].as_array().unwrap() {
            ack.vitals_ids.push(o["id"].as_str().unwrap().to_owned());
        }
    }
    ack
}

fn set(rows: Vec<Vec<Option<String>>>) -> Vec<String> {
    rows.into_iter()
        .map(|r| r.into_iter().next().flatten().unwrap())
        .collect()
}

#[test]
fn sigkill_during_writes_loses_no_acknowledged_write_and_leaves_none_half_done() {
    let cycles: u64 = std::env::var("KETAFLOW_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut token = String::new();
    let mut session = String::new();
    let mut since = 0_i64;
    let mut all = Acknowledged::default();
    for cycle in 0..cycles {
        // Demo data once; later starts see the patients written since, which --demo refuses.
        let server = if cycle == 0 {
            Server::start(dir.path(), &["--demo", "--database", &url])
        } else {
            Server::start(dir.path(), &["--database", &url])
        };
        if cycle == 0 {
            since = jiff::Timestamp::now().as_millisecond();
            // A nurse account of the clinic's own (demo accounts sign in only in demo mode).
            let (code, _, err) = run(
                ketaflow(dir.path()).args([
                    "user",
                    "add",
                    "--email",
                    "crash.nurse@example.org",
                    "--role",
                    "nurse",
                    "--password-stdin",
                    "--database",
                    &url,
                ]),
                "a long enough password\n",
            );
            assert_eq!(code, 0, "{err}");
            let (code, out, err) = run(
                ketaflow(dir.path()).args([
                    "token",
                    "create",
                    "--email",
                    "crash.nurse@example.org",
                    "--database",
                    &url,
                ]),
                "",
            );
            assert_eq!(code, 0, "{err}");
            token = out
                .split_whitespace()
                .find(|w| w.starts_with("kf_"))
                .unwrap()
                .to_owned();
            let list: Value = rt.block_on(async {
                reqwest::Client::new()
                    .get(format!("{}/api/v1/sessions", server.base))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap()
            });
            session = list["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| ["monitoring", "administering"].contains(&s["status"].as_str().unwrap()))
                .expect("the demo has a session in the chair")["id"]
                .as_str()
                .unwrap()
                .to_owned();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..4)
            .map(|w| {
                rt.spawn(writer(
                    server.base.clone(),
                    token.clone(),
                    session.clone(),
                    format!("{cycle}w{w}"),
                    stop.clone(),
                ))
            })
            .collect();
        // Killed at a different moment each cycle, 150 to 600 ms into the writes.
        let wait = 150 + (cycle * 97) % 450;
        std::thread::sleep(std::time::Duration::from_millis(wait));
        drop(server); // SIGKILL, then wait for the process to be gone
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let ack = rt.block_on(t).unwrap();
            all.patients.extend(ack.patients);
            all.assessments.extend(ack.assessments);
            all.vitals_keys.extend(ack.vitals_keys);
            all.vitals_ids.extend(ack.vitals_ids);
            all.attempts += ack.attempts;
        }
    }

    rt.block_on(async {
        let store = store::Store::connect(&store::DatabaseUrl::parse(&url).unwrap())
            .await
            .unwrap();
        assert_eq!(
            text_rows(&store, "pragma integrity_check").await,
            vec![vec![Some("ok".to_owned())]]
        );
        let events = match store.verify_audit(None, &|_, _| {}).await.unwrap() {
            store::AuditCheck::Intact(n) => n,
            other => panic!("audit chain broken: {other}"),
        };

        // Patients: every acknowledged one is there, and every one there has exactly one
        // registration event (none half-written).
        let patients = set(
            text_rows(
                &store,
                "select id from patients where family_name like 'Crash%'",
            )
            .await,
        );
        let present: HashSet<_> = patients.iter().cloned().collect();
        for id in &all.patients {
            assert!(present.contains(id), "acknowledged patient {id} is missing");
        }
        let mut created = set(
            text_rows(
                &store,
                "select entity_id from audit_events where action = 'patient.create'
                  and entity_id in (select id from patients where family_name like 'Crash%')",
            )
            .await,
        );
        created.sort();
        let mut sorted = patients.clone();
        sorted.sort();
        assert_eq!(created, sorted, "each patient row has its one audit event");
        let orphans = text_rows(
            &store,
            "select e.entity_id from audit_events e where e.action = 'patient.create'
              and e.actor_label = 'crash.nurse@example.org'
              and not exists (select 1 from patients p where p.id = e.entity_id)",
        )
        .await;
        assert!(orphans.is_empty(), "events of patients not stored: {orphans:?}");

        // Assessments.
        let mut assessments = set(
            text_rows(
                &store,
                "select a.id from assessments a join patients p on p.id = a.patient_id
                  where p.family_name like 'Crash%'",
            )
            .await,
        );
        let present: HashSet<_> = assessments.iter().cloned().collect();
        for id in &all.assessments {
            assert!(present.contains(id), "acknowledged assessment {id} is missing");
        }
        let mut events_a = set(
            text_rows(
                &store,
                "select entity_id from audit_events where action = 'assessment.create'
                  and patient_id in (select id from patients where family_name like 'Crash%')",
            )
            .await,
        );
        assessments.sort();
        events_a.sort();
        assert_eq!(events_a, assessments, "each assessment has its one audit event");

        // Vitals: a key is stored exactly when its reading and its audit event are.
        let keys = set(
            text_rows(
                &store,
                "select key from idempotency_keys where key like 'crash-%'",
            )
            .await,
        );
        let present: HashSet<_> = keys.iter().cloned().collect();
        for k in &all.vitals_keys {
            assert!(present.contains(k), "acknowledged reading {k} is missing");
        }
        let readings = set(
            text_rows(
                &store,
                &format!("select id from session_vitals where recorded_at >= {since}"),
            )
            .await,
        );
        let stored: HashSet<_> = readings.iter().cloned().collect();
        for id in &all.vitals_ids {
            assert!(stored.contains(id), "acknowledged reading {id} is missing");
        }
        assert_eq!(readings.len(), keys.len(), "one reading per stored key");
        let vitals_events = text_rows(
            &store,
            &format!(
                "select entity_id from audit_events where action = 'session.vitals' and at >= {since}"
            ),
        )
        .await;
        assert_eq!(vitals_events.len(), keys.len(), "one audit event per stored key");

        let acknowledged =
            all.patients.len() + all.assessments.len() + all.vitals_keys.len();
        assert!(
            acknowledged as u64 > cycles * 4,
            "the writers got through: {acknowledged} in {cycles} cycles"
        );
        eprintln!(
            "crash test: {cycles} SIGKILL cycles, {} write attempts, {acknowledged} acknowledged \
             (patients {}, assessments {}, readings {}); stored: {} patients, {} assessments, \
             {} readings; {events} audit events verified; integrity_check ok",
            all.attempts,
            all.patients.len(),
            all.assessments.len(),
            all.vitals_keys.len(),
            patients.len(),
            assessments.len(),
            readings.len()
        );
        store.close().await;
    });
}
