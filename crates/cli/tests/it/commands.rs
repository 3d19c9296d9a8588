//! The binary end to end: exit codes, messages, and a real server on SQLite and PostgreSQL.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use store::Backend;
use store::testing::TestDb;

pub(crate) fn ketaflow(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ketaflow"));
    cmd.current_dir(dir).env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("KETAFLOW_") && !k.starts_with("KETAFLOW_TEST_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

pub(crate) fn run(cmd: &mut Command, stdin: &str) -> (i32, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running `ketaflow serve` and the base URL it printed.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn start(dir: &std::path::Path, args: &[&str]) -> Server {
        // Warnings only: the rest of standard output is not read once the address is.
        let mut child = ketaflow(dir)
            .env("KETAFLOW_LOG__FILTER", "warn")
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut base = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("Ketaflow is serving on ") {
                base = Some(rest.split(' ').next().unwrap().to_owned());
                break;
            }
        }
        Server {
            child,
            base: base.expect("the server printed its address"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn config_example_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run(ketaflow(dir.path()).args(["config", "example"]), "");
    assert_eq!(code, 0);
    assert!(
        out.contains("[database]") && out.contains("idle_timeout_minutes = 15"),
        "{out}"
    );
}

#[test]
fn bad_input_exits_2_with_a_message_that_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str, &str); 5] = [
        (
            &[
                "user",
                "add",
                "--email",
                "a@example.org",
                "--role",
                "doctor",
                "--password-stdin",
            ],
            "a long enough password\n",
            "use one of admin, prescriber, nurse, front_desk",
        ),
        (
            &[
                "user",
                "add",
                "--email",
                "a@example.org",
                "--role",
                "nurse",
                "--password-stdin",
            ],
            "short\n",
            "use at least 12",
        ),
        (
            &[
                "user",
                "add",
                "--email",
                "nope",
                "--role",
                "nurse",
                "--password-stdin",
            ],
            "a long enough password\n",
            "--email",
        ),
        (
            &["token", "create", "--email", "ghost@example.org"],
            "",
            "no account has the email",
        ),
        (
            &["serve", "--database", "mysql://root@localhost/k"],
            "",
            "neither sqlite://PATH nor postgres://",
        ),
    ];
    for (args, stdin, fragment) in cases {
        let (code, _, err) = run(ketaflow(dir.path()).args(args), stdin);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(fragment), "{args:?}: {err}");
    }
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["serve", "--addr", "nowhere"]),
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("server.addr 'nowhere'"), "{err}");
}

fn serve_story(dir: &std::path::Path, database: &str, expect_db: &str) {
    let db = ["--database", database];
    let (code, out, err) = run(
        ketaflow(dir)
            .args([
                "user",
                "add",
                "--email",
                "Dr.Who@Example.org",
                "--role",
                "prescriber",
                "--password-stdin",
            ])
            .args(db),
        "a long enough password\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Added dr.who@example.org (Prescriber)"),
        "{out}"
    );
    let (code, _, err) = run(
        ketaflow(dir)
            .args([
                "user",
                "add",
                "--email",
                "dr.who@example.org",
                "--role",
                "nurse",
                "--password-stdin",
            ])
            .args(db),
        "a long enough password\n",
    );
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    let (code, token, err) = run(
        ketaflow(dir)
            .args(["token", "create", "--email", "dr.who@example.org"])
            .args(db),
        "",
    );
    assert_eq!(code, 0, "{err}");
    let token = token.trim().to_owned();
    assert!(token.starts_with("kf_"), "{token}");
    assert!(err.contains("shown only this once"));

    // --demo refuses a database with real accounts, and changes nothing.
    let (code, _, err) = run(
        ketaflow(dir)
            .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
            .args(db),
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("demo mode refuses to run on it"), "{err}");

    let server = Server::start(dir, &db);
    let (code, out, err) = run(
        ketaflow(dir).args(["healthcheck", "--url", &server.base]),
        "",
    );
    assert_eq!(code, 0, "{err}");
    let health: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], expect_db);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let res = reqwest::Client::new()
            .get(format!("{}/api/v1/patients", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    });
}

#[test]
fn users_tokens_and_the_server_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    serve_story(dir.path(), "sqlite://clinic.db", "sqlite");
    assert!(dir.path().join("clinic.db").exists());
}

#[test]
fn users_tokens_and_the_server_on_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(TestDb::new(Backend::Postgres));
    let dir = tempfile::tempdir().unwrap();
    serve_story(dir.path(), &db.url.to_string(), "postgres");
    rt.block_on(db.finish());
}

#[test]
fn demo_serves_fictional_data_and_seeds_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(dir.path(), &["--demo"]);
    drop(first);
    let mut child = ketaflow(dir.path())
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Ketaflow is serving on");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = lines.join("\n");
    assert!(
        text.contains("(0 accounts and 0 patients added this time)"),
        "{text}"
    );
    assert!(text.contains("the password is ketaflow-demo"), "{text}");
    for email in [
        "admin@example.org",
        "prescriber@example.org",
        "nurse@example.org",
        "frontdesk@example.org",
    ] {
        assert!(text.contains(email), "{text}");
    }
    assert!(
        dir.path().join("ketaflow.db").exists(),
        "the default database is ketaflow.db in the working directory"
    );
}

#[test]
fn configuration_comes_from_the_file_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ketaflow.toml"),
        "[database]\nurl = \"sqlite://from-file.db\"\n",
    )
    .unwrap();
    let (code, _, err) = run(
        ketaflow(dir.path()).args([
            "user",
            "add",
            "--email",
            "a@example.org",
            "--role",
            "admin",
            "--password-stdin",
        ]),
        "a long enough password\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("from-file.db").exists());
    let (code, _, err) = run(
        ketaflow(dir.path())
            .env("KETAFLOW_DATABASE_URL", "sqlite://from-env.db")
            .env("KETAFLOW_DATBASE_URL", "typo")
            .args([
                "user",
                "add",
                "--email",
                "b@example.org",
                "--role",
                "admin",
                "--password-stdin",
            ]),
        "a long enough password\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("from-env.db").exists());
    assert!(
        err.contains("ignoring environment variable KETAFLOW_DATBASE_URL"),
        "{err}"
    );
}

#[test]
fn score_prints_json_with_instrument_specific_fields() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str, i64); 4] = [
        ("phq9", "1,2,1,1,2,1,1,1,1", "suicidality_flag", 11),
        ("epds", "0,0,3,0,3,3,3,3,3,2", "self_harm_flag", 1),
        ("ybocs", "4,3,2,1,0,1,1,1,1,1", "obsessions", 15),
        (
            "pcl5",
            "2,0,0,0,0,2,0,2,2,0,0,0,0,0,2,2,0,0,0,0",
            "dsm5_criteria_met",
            12,
        ),
    ];
    for (instrument, answers, field, total) in cases {
        let (code, out, err) = run(
            ketaflow(dir.path()).args([
                "score",
                instrument,
                "--answers",
                answers,
                "--format",
                "json",
            ]),
            "",
        );
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["instrument"], instrument);
        assert_eq!(v["total"], total, "{out}");
        assert!(!v[field].is_null(), "{instrument} lacks {field}: {out}");
    }
    let (_, out, _) = run(
        ketaflow(dir.path()).args([
            "score",
            "phq9",
            "--answers",
            "1,2,1,1,2,1,1,1,1",
            "--format",
            "json",
        ]),
        "",
    );
    assert!(
        out.starts_with("{\"instrument\":\"phq9\",\"total\":11,\"severity\":\"moderate\""),
        "{out}"
    );
    let (code, out, _) = run(
        ketaflow(dir.path()).args(["score", "rass", "--answers", "-2"]),
        "",
    );
    assert_eq!(code, 0);
    assert!(out.contains("RASS total -2"), "{out}");
}

#[test]
fn score_refuses_wrong_counts_and_ranges_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            ["score", "phq9", "--answers", "1,2,3"],
            "phq9 has 9 items, but 3 answers were given",
        ),
        (
            ["score", "gad7", "--answers", "0,0,0,4,0,0,0"],
            "gad7 item 4: answer 4 is out of range; allowed 0 to 3",
        ),
        (
            ["score", "hamd", "--answers", "1"],
            "'hamd' is not an instrument; use one of phq9",
        ),
    ];
    for (args, message) in cases {
        let (code, out, err) = run(ketaflow(dir.path()).args(args), "");
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty());
        assert!(err.contains(message), "{err}");
    }
}

#[test]
fn instrument_wording_is_checked_and_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run(ketaflow(dir.path()).args(["instruments", "list"]), "");
    assert_eq!(code, 0);
    assert!(
        out.contains("phq9")
            && out.contains("44249-1/44261-6")
            && out.contains("permission required"),
        "{out}"
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"instrument":"gad7","language":"en","options":["a","b"],"items":[{"text":"one"}]}"#,
    )
    .unwrap();
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["instruments", "import", bad.to_str().unwrap()]),
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("gad7 has 7 items, the file has 1"), "{err}");
    assert!(
        err.contains("item 1 needs 4 options (one per answer 0 to 3), the file has 2"),
        "{err}"
    );
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"instrument\": ").unwrap();
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["instruments", "import", broken.to_str().unwrap()]),
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("broken.json"), "{err}");

    let good = dir.path().join("gad7.json");
    let items: Vec<String> = (1..=7)
        .map(|i| format!("{{\"text\":\"Question {i}\"}}"))
        .collect();
    std::fs::write(
        &good,
        format!(
            r#"{{"instrument":"gad7","language":"en","options":["A","B","C","D"],"items":[{}]}}"#,
            items.join(",")
        ),
    )
    .unwrap();
    let (code, out, err) = run(
        ketaflow(dir.path()).args(["instruments", "import", good.to_str().unwrap()]),
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Loaded GAD-7 wording (en, 7 items)"), "{out}");
}

#[test]
fn simulate_prints_json_csv_and_svg_and_refuses_bad_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = r#"{"model":"domino","patient":{"weight_kg":70,"age_years":45,"sex":"female"},
        "doses":[{"route":"iv_infusion","start_min":0,"amount_mg":35,"duration_min":40}],"times_min":[5,10,20,40]}"#;
    let file = dir.path().join("s.json");
    std::fs::write(&file, scenario).unwrap();
    let (code, out, err) = run(
        ketaflow(dir.path()).args(["simulate", "--scenario", file.to_str().unwrap()]),
        "",
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["model"], "domino");
    assert_eq!(v["concentration_mg_per_l"].as_array().unwrap().len(), 4);
    assert!(v["summary"]["auc_mg_min_per_l"].as_f64().unwrap() > 0.0);
    let (code, out, _) = run(
        ketaflow(dir.path()).args(["simulate", "--scenario", "-", "--format", "csv"]),
        scenario,
    );
    assert_eq!(code, 0);
    assert!(
        out.starts_with("time_min,concentration_mg_per_l,effect_site_mg_per_l\n5,0.15"),
        "{out}"
    );
    let (code, out, _) = run(
        ketaflow(dir.path()).args(["simulate", "--scenario", "-", "--format", "svg"]),
        scenario,
    );
    assert_eq!(code, 0);
    assert!(
        out.starts_with("<svg")
            && out.contains("Concentration (mg/L)")
            && out.contains("Time (min)")
    );

    let bad = [
        (
            scenario.replace("domino", "marsh"),
            "model: model 'marsh' is unknown",
        ),
        (
            scenario.replace("\"weight_kg\":70", "\"weight_kg\":1"),
            "patient.weight_kg: weight_kg is 1; accepted 2 to 350",
        ),
        (
            scenario.replace("[5,10,20,40]", "[5,10,2,40]"),
            "times_min[2]",
        ),
        (
            scenario.replace("\"amount_mg\":35", "\"amount_mg\":90"),
            "above the clinic's cap of 1 mg/kg",
        ),
        (
            scenario
                .replace("domino", "simons2022")
                .replace("iv_infusion", "intramuscular"),
            "does not describe the intramuscular route",
        ),
        ("{\"model\": ".to_owned(), "not a valid scenario"),
    ];
    for (text, fragment) in bad {
        let (code, out, err) = run(
            ketaflow(dir.path()).args(["simulate", "--scenario", "-"]),
            &text,
        );
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(fragment), "{err}");
        assert!(!err.contains("NaN"));
    }
}

/// The dose caps are clinic settings: the oral cap can rise within its published range while the
/// IV cap stays; a cap outside its range is refused at start, naming the setting.
#[test]
fn dose_caps_come_from_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let oral = r#"{"model":"kamp2020","patient":{"weight_kg":70},"doses":[{"route":"oral","start_min":0,"amount_mg":140}],"times_min":[60]}"#;
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["simulate", "--scenario", "-"]),
        oral,
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("above the clinic's oral and sublingual cap of 1 mg/kg"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("ketaflow.toml"),
        "[dosing]\nmax_oral_mg_per_kg = 3.0\n",
    )
    .unwrap();
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["simulate", "--scenario", "-"]),
        oral,
    );
    assert_eq!(code, 0, "{err}");
    let iv = oral.replace("\"oral\",", "\"iv_infusion\",\"duration_min\":40,");
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["simulate", "--scenario", "-"]),
        &iv,
    );
    assert_eq!(code, 2);
    assert!(err.contains("above the clinic's cap of 1 mg/kg"), "{err}");
    let (code, _, err) = run(
        ketaflow(dir.path())
            .env("KETAFLOW_DOSING__MAX_MG_PER_KG", "2.5")
            .args(["simulate", "--scenario", "-"]),
        &iv,
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("dosing.max_mg_per_kg is 2.5; accepted 0.01 to 2"),
        "{err}"
    );
    let (code, _, err) = run(
        ketaflow(dir.path())
            .env("KETAFLOW_DOSING__MAX_MG_PER_KG", "0.4")
            .args([
                "dose",
                "--weight-kg",
                "70",
                "--mg-per-kg",
                "0.5",
                "--duration-min",
                "40",
                "--stock-mg-per-ml",
                "10",
            ]),
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("above the cap of 0.4 mg/kg"), "{err}");
}

#[test]
fn dose_works_out_the_infusion_and_devices() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "dose",
        "--weight-kg",
        "82",
        "--mg-per-kg",
        "0.5",
        "--duration-min",
        "40",
        "--stock-mg-per-ml",
        "10",
        "--bag-ml",
        "100",
        "--format",
        "json",
    ];
    let (code, out, err) = run(ketaflow(dir.path()).args(args), "");
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["dose_mg"], 41.0);
    assert_eq!(v["stock_ml"], 4.1);
    assert_eq!(v["pump_rate_ml_per_h"], 156.2);
    assert!(
        v["rounding"]
            .as_str()
            .unwrap()
            .contains("half away from zero")
    );
    let (code, out, _) = run(
        ketaflow(dir.path()).args([
            "dose",
            "--weight-lb",
            "180",
            "--mg-per-kg",
            "0.5",
            "--duration-min",
            "40",
            "--stock-mg-per-ml",
            "10",
        ]),
        "",
    );
    assert_eq!(code, 0);
    assert!(out.contains("Dose:               40.8 mg"), "{out}");
    let (code, out, _) = run(
        ketaflow(dir.path()).args(["dose", "--esketamine-mg", "56"]),
        "",
    );
    assert_eq!(code, 0);
    assert!(out.contains("2 Spravato device(s)"));
    for (extra, fragment) in [
        (vec!["--esketamine-mg", "60"], "not 28, 56 or 84 mg"),
        (
            vec![
                "--weight-kg",
                "82",
                "--mg-per-kg",
                "1.5",
                "--duration-min",
                "40",
                "--stock-mg-per-ml",
                "10",
            ],
            "above the cap of 1 mg/kg",
        ),
        (
            vec![
                "--weight-kg",
                "500",
                "--mg-per-kg",
                "0.5",
                "--duration-min",
                "40",
                "--stock-mg-per-ml",
                "10",
            ],
            "--weight-kg: weight_kg is 500; accepted 2 to 350",
        ),
        (
            vec![
                "--weight-kg",
                "82",
                "--mg-per-kg",
                "0.5",
                "--duration-min",
                "40",
            ],
            "--stock-mg-per-ml is required",
        ),
    ] {
        let (code, _, err) = run(ketaflow(dir.path()).arg("dose").args(&extra), "");
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(fragment), "{err}");
    }
}

#[test]
fn simulate_gives_reproducible_population_percentiles() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = r#"{"model":"perez_ruixo2021","patient":{"weight_kg":75},
        "doses":[{"route":"intranasal","start_min":0,"devices":2,"mg_per_device":28,"interval_min":5}],"times_min":[20,40,120]}"#;
    let args = [
        "simulate",
        "--scenario",
        "-",
        "--population",
        "500",
        "--seed",
        "11",
    ];
    let (code, first, err) = run(ketaflow(dir.path()).args(args), scenario);
    assert_eq!(code, 0, "{err}");
    let (_, second, _) = run(ketaflow(dir.path()).args(args), scenario);
    assert_eq!(first, second, "the same seed gives the same output");
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    let p = &v["percentiles"];
    assert_eq!(
        (p["patients"].as_u64(), p["seed"].as_u64()),
        (Some(500), Some(11))
    );
    for j in 0..3 {
        let (lo, mid, hi) = (
            p["p5"][j].as_f64().unwrap(),
            p["p50"][j].as_f64().unwrap(),
            p["p95"][j].as_f64().unwrap(),
        );
        assert!(lo < mid && mid < hi, "{p}");
    }
    let (code, svg, _) = run(
        ketaflow(dir.path()).args([
            "simulate",
            "--scenario",
            "-",
            "--population",
            "200",
            "--format",
            "svg",
        ]),
        scenario,
    );
    assert_eq!(code, 0);
    assert!(svg.contains("<polygon") && svg.contains("5th–95th percentile of virtual patients"));
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["simulate", "--scenario", "-", "--population", "0"]),
        scenario,
    );
    assert_eq!(code, 2);
    assert!(err.contains("accepted 1 to 100000"), "{err}");
}

/// `ketaflow ledger verify` on a database with a few entries: 0 and the count while intact, 1
/// naming the entry once one is altered behind the application's back.
fn ledger_verify_story(backend: Backend) {
    use clinical::ledger::{EntryKind, Form};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(TestDb::new(backend));
    rt.block_on(async {
        let system = store::Actor::system("test");
        let site = db
            .store
            .ensure_site(&system, "Clinic", "UTC", jiff::Timestamp::now())
            .await
            .unwrap();
        let user = db
            .store
            .create_user(
                &system,
                &site.id,
                store::NewUser {
                    email: &clinical::patient::Email::parse("n@example.org").unwrap(),
                    display_name: "N",
                    role: store::Role::Nurse,
                    password: &store::PasswordHash::new("a long passphrase").unwrap(),
                },
                jiff::Timestamp::now(),
            )
            .await
            .unwrap();
        let nurse = store::Actor::user(&user);
        let now = jiff::Timestamp::now();
        let safe = db
            .store
            .add_cs_location(
                &nurse,
                &site.id,
                &clinical::ledger::NewPlace::parse("Safe", "safe").unwrap(),
                now,
            )
            .await
            .unwrap()
            .unwrap();
        let supplier = store::Supplier {
            name: "Supplier".into(),
            address: "1 Road".into(),
            dea_number: "RX1234563".into(),
            invoice: "I-1".into(),
        };
        let ids = db
            .store
            .receive_stock(
                &nurse,
                &site.id,
                &store::Receipt {
                    form: Form::SpravatoDevice,
                    ndc: "50458-028-02",
                    lot: "L1",
                    expires_on: "2028-01-01".parse().unwrap(),
                    supplier: &supplier,
                    containers: 2,
                    location_id: &safe,
                },
                now,
            )
            .await
            .unwrap()
            .unwrap();
        db.store
            .write_ledger_entry(
                &nurse,
                &site.id,
                &store::NewEntry::new(EntryKind::Administration, &ids[0], 28.0),
                true,
                "2026-12-02".parse().unwrap(),
                now,
            )
            .await
            .unwrap()
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.to_string();
    let (code, out, err) = run(
        ketaflow(dir.path()).args(["ledger", "verify", "--database", &url]),
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Ledger verified: 3 entries checked"), "{out}");
    rt.block_on(async {
        match backend {
            Backend::Sqlite => db.raw("drop trigger cs_ledger_append_only").await,
            Backend::Postgres => {
                db.raw("drop trigger cs_ledger_append_only on cs_ledger")
                    .await
            }
        }
        db.raw("update cs_ledger set amount_mg = 20 where seq = 3")
            .await;
    });
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["ledger", "verify", "--database", &url]),
        "",
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("ledger verify failed at ledger entry 3"),
        "{err}"
    );
    assert!(err.contains("altered"), "{err}");
    rt.block_on(db.finish());
}

#[test]
fn ledger_verify_names_the_first_bad_entry_on_sqlite() {
    ledger_verify_story(Backend::Sqlite);
}

#[test]
fn ledger_verify_names_the_first_bad_entry_on_postgres() {
    ledger_verify_story(Backend::Postgres);
}

/// `ketaflow audit verify` on the demo database: 0 and the count while intact, 1 naming the
/// event once one is altered behind the application's back.
fn audit_verify_story(backend: Backend) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(TestDb::new(backend));
    rt.block_on(async {
        db.store
            .seed_demo(jiff::Timestamp::now(), jiff::Zoned::now().date())
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.to_string();
    let (code, out, err) = run(
        ketaflow(dir.path()).args(["audit", "verify", "--database", &url]),
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Audit trail verified: "), "{out}");
    let checked: u64 = out
        .split("verified: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {out}"));
    assert!(checked > 50, "{out}");
    rt.block_on(async {
        match backend {
            Backend::Sqlite => db.raw("drop trigger audit_events_no_update").await,
            Backend::Postgres => {
                db.raw("drop trigger audit_events_no_update on audit_events")
                    .await
            }
        }
        db.raw("update audit_events set patient_id = 'someone-else' where seq = 7")
            .await;
    });
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["audit", "verify", "--database", &url]),
        "",
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("audit verify failed at audit event 7"),
        "{err}"
    );
    assert!(err.contains("altered"), "{err}");
    rt.block_on(db.finish());
}

#[test]
fn audit_verify_names_the_first_bad_event_on_sqlite() {
    audit_verify_story(Backend::Sqlite);
}

#[test]
fn audit_verify_names_the_first_bad_event_on_postgres() {
    audit_verify_story(Backend::Postgres);
}

/// `ketaflow backup` while writers register patients and record reads, `ketaflow restore` of
/// it into an empty database: the restored chain verifies and every row it holds stands in the
/// source as it is; a second backup once the writers stop restores to exactly the source,
/// every table row by row.
fn backup_restore_story(backend: Backend) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use store::testing::{EmptyDb, table_rows};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(TestDb::new(backend));
    let site = rt.block_on(async {
        db.store
            .seed_demo(jiff::Timestamp::now(), jiff::Zoned::now().date())
            .await
            .unwrap();
        db.store.first_site().await.unwrap().unwrap()
    });
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (store, site, stop, acknowledged) = (
                db.store.clone(),
                site.id.clone(),
                stop.clone(),
                acknowledged.clone(),
            );
            rt.spawn(async move {
                let actor = store::Actor::system("writer");
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let patient = clinical::patient::PatientInput {
                        given_name: format!("Writer{w}"),
                        family_name: format!("Number{i}"),
                        date_of_birth: "1980-01-01".into(),
                        sex: "female".into(),
                        ..Default::default()
                    }
                    .validate(jiff::Zoned::now().date())
                    .unwrap();
                    let p = store
                        .create_patient(&actor, &site, &patient, jiff::Timestamp::now())
                        .await
                        .unwrap();
                    store
                        .patient(&actor, &site, &p.id, jiff::Timestamp::now())
                        .await
                        .unwrap();
                    acknowledged.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let url = db.url.to_string();
    let during = dir.path().join("during.bak");
    // Let the writers get going, then back up while they write.
    rt.block_on(async {
        while acknowledged.load(Ordering::Relaxed) < 20 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
    let out_path = during.display().to_string();
    let (code, out, err) = run(
        ketaflow(dir.path()).args(["backup", "--out", &out_path, "--database", &url]),
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Backup written"), "{out}");
    let written_during = acknowledged.load(Ordering::Relaxed);
    rt.block_on(async {
        while acknowledged.load(Ordering::Relaxed) < written_during + 20 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        rt.block_on(w).unwrap();
    }
    let source = rt.block_on(table_rows(&db.store));

    let first = rt.block_on(EmptyDb::new(backend));
    let target = first.url.to_string();
    let (code, out, err) = run(
        ketaflow(dir.path()).args(["restore", "--from", &out_path, "--database", &target]),
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("audit events and"), "{out}");
    let restored = rt.block_on(async {
        let s = store::Store::connect(&first.url).await.unwrap();
        let rows = table_rows(&s).await;
        s.close().await;
        rows
    });
    let mut rows_checked = 0;
    for (table, rows) in &restored {
        if table == "audit_chain" {
            continue; // the head moved on in the source after the backup; verify checked it
        }
        for row in rows {
            assert!(
                source[table].binary_search(row).is_ok(),
                "{table}: the backup holds a row the source does not: {row}"
            );
            rows_checked += 1;
        }
    }
    let patients_then = restored["patients"].len();
    assert!(
        patients_then > 6 && patients_then < source["patients"].len(),
        "the backup caught the writers in the middle: {patients_then} of {}",
        source["patients"].len()
    );
    assert!(rows_checked > 100, "{rows_checked}");

    // With the writers stopped, a backup restores to exactly the source.
    let after = dir.path().join("after.bak").display().to_string();
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["backup", "--out", &after, "--database", &url]),
        "",
    );
    assert_eq!(code, 0, "{err}");
    let second = rt.block_on(EmptyDb::new(backend));
    let target = second.url.to_string();
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["restore", "--from", &after, "--database", &target]),
        "",
    );
    assert_eq!(code, 0, "{err}");
    let copy = rt.block_on(async {
        let s = store::Store::connect(&second.url).await.unwrap();
        let rows = table_rows(&s).await;
        s.close().await;
        rows
    });
    assert_eq!(
        copy.keys().collect::<Vec<_>>(),
        source.keys().collect::<Vec<_>>()
    );
    for (table, rows) in &source {
        assert_eq!(
            &copy[table], rows,
            "table {table} differs after the round trip"
        );
    }
    // A restore never goes into a database that holds data.
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["restore", "--from", &after, "--database", &url]),
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not empty"), "{err}");
    drop(first);
    drop(second);
    rt.block_on(db.finish());
}

#[test]
fn backup_under_writes_and_restore_round_trip_on_sqlite() {
    backup_restore_story(Backend::Sqlite);
}

#[test]
fn backup_under_writes_and_restore_round_trip_on_postgres() {
    backup_restore_story(Backend::Postgres);
}

/// `serve --tls-cert/--tls-key`: HTTPS over HTTP/2 and HTTP/1.1 with HSTS and Secure cookies;
/// a key that is not a key, or one half of the pair, is refused in words with exit code 2.
#[test]
fn serve_speaks_https_over_http2_and_http1_with_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    let (cert_arg, key_arg) = (
        cert_path.display().to_string(),
        key_path.display().to_string(),
    );
    let server = Server::start(
        dir.path(),
        &[
            "--database",
            &url,
            "--tls-cert",
            &cert_arg,
            "--tls-key",
            &key_arg,
        ],
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let base = server.base.replace("127.0.0.1", "localhost");
    for (flag, protocol) in [("--http2", "HTTP/2 200"), ("--http1.1", "HTTP/1.1 200")] {
        let out = Command::new("curl")
            .args([
                "-sS",
                "-D",
                "-",
                "-o",
                "/dev/null",
                "--cacert",
                &cert_arg,
                flag,
            ])
            .arg(format!("{base}/login"))
            .output()
            .expect("curl runs");
        let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
        assert!(
            head.starts_with(&protocol.to_ascii_lowercase()),
            "{flag}: {head}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            head.contains("strict-transport-security: max-age=31536000"),
            "{head}"
        );
        let cookies: Vec<&str> = head
            .lines()
            .filter(|l| l.starts_with("set-cookie:"))
            .collect();
        assert!(
            !cookies.is_empty() && cookies.iter().all(|l| l.contains("; secure")),
            "cookies over TLS are Secure: {head}"
        );
    }
    // Plain HTTP to the TLS port gets no page.
    let plain = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(base.replace("https://", "http://") + "/login")
        .output()
        .unwrap();
    assert_ne!(String::from_utf8_lossy(&plain.stdout), "200");
    drop(server);

    let (code, _, err) = run(
        ketaflow(dir.path()).args([
            "serve",
            "--database",
            &url,
            "--tls-cert",
            &cert_arg,
            "--tls-key",
            &cert_arg,
        ]),
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no PEM private key"), "{err}");
    let (code, _, err) = run(
        ketaflow(dir.path()).args(["serve", "--database", &url, "--tls-cert", &cert_arg]),
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("both --tls-cert and --tls-key"), "{err}");
}
