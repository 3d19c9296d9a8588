//! Configuration: built-in defaults < `ketaflow.toml` < `KETAFLOW_*` environment < flags,
//! parsed once into [`Config`] and handed down explicitly.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::Deserialize;

/// The commented example file, embedded so `ketaflow config example` always matches the build.
pub(crate) const EXAMPLE: &str = include_str!("../ketaflow.example.toml");

/// Every key that can be set, for warning about misspelt environment variables.
const KEYS: &[&str] = &[
    "database.url",
    "server.addr",
    "server.secure_cookies",
    "server.tls_cert",
    "server.tls_key",
    "security.idle_timeout_minutes",
    "security.session_max_hours",
    "security.max_failed_logins",
    "security.lockout_minutes",
    "clinic.name",
    "clinic.timezone",
    "self_report.link_hours",
    "self_report.crisis_message",
    "inquiry.retention_days",
    "inquiry.call_back",
    "dosing.max_mg_per_kg",
    "dosing.max_oral_mg_per_kg",
    "dosing.min_mg_per_kg",
    "dosing.min_infusion_min",
    "screening.systolic_mmhg",
    "screening.diastolic_mmhg",
    "screening.trd_min_trials",
    "screening.min_age_years",
    "appointments.iv_infusion_min",
    "appointments.esketamine_min",
    "appointments.im_min",
    "appointments.oral_min",
    "appointments.intake_min",
    "appointments.follow_up_min",
    "session_alerts.systolic_max",
    "session_alerts.diastolic_max",
    "session_alerts.systolic_rise",
    "session_alerts.diastolic_rise",
    "session_alerts.heart_rate_max",
    "session_alerts.heart_rate_min",
    "session_alerts.spo2_min",
    "session_alerts.respiratory_rate_min",
    "session_scales.cadss6_minutes",
    "session_scales.moaas_minutes",
    "ledger.witness_waste",
    "ledger.opened_vial_days",
    "limits.header_read_timeout_seconds",
    "limits.body_read_timeout_seconds",
    "limits.simulation_deadline_seconds",
    "limits.check_deadline_seconds",
    "limits.sign_in_per_minute",
    "limits.public_per_minute",
    "limits.token_checks_per_minute",
    "limits.report_lines",
    "log.filter",
];

/// Environment variables that belong to Ketaflow but are not configuration keys.
const OTHER_VARS: &[&str] = &["KETAFLOW_CONFIG", "KETAFLOW_DATABASE_URL_FILE"];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    pub(crate) database: DatabaseConfig,
    pub(crate) server: ServerConfig,
    pub(crate) security: SecurityConfig,
    pub(crate) clinic: ClinicConfig,
    pub(crate) self_report: SelfReportConfig,
    pub(crate) inquiry: InquiryConfig,
    pub(crate) dosing: DosingConfig,
    pub(crate) screening: ScreeningConfig,
    pub(crate) appointments: AppointmentsConfig,
    pub(crate) session_alerts: SessionAlertsConfig,
    pub(crate) session_scales: SessionScalesConfig,
    pub(crate) ledger: LedgerConfig,
    pub(crate) limits: LimitsConfig,
    pub(crate) log: LogConfig,
}

/// Bounds on connections, requests and addresses (defaults in `web::Limits`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct LimitsConfig {
    pub(crate) header_read_timeout_seconds: i64,
    pub(crate) body_read_timeout_seconds: i64,
    pub(crate) simulation_deadline_seconds: i64,
    pub(crate) check_deadline_seconds: i64,
    pub(crate) sign_in_per_minute: i64,
    pub(crate) public_per_minute: i64,
    pub(crate) token_checks_per_minute: i64,
    pub(crate) report_lines: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let l = web::Limits::default();
        // ok: the built-in defaults are a few seconds, far inside i64.
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        LimitsConfig {
            header_read_timeout_seconds: secs(l.header_read_timeout),
            body_read_timeout_seconds: secs(l.body_read_timeout),
            simulation_deadline_seconds: secs(l.simulation_deadline),
            check_deadline_seconds: secs(l.check_deadline),
            sign_in_per_minute: i64::from(l.sign_in_per_minute),
            public_per_minute: i64::from(l.public_per_minute),
            token_checks_per_minute: i64::from(l.token_checks_per_minute),
            report_lines: i64::from(l.report_lines),
        }
    }
}

impl LimitsConfig {
    /// The limits, once [`Config::check`] has held every value to its range.
    pub(crate) fn limits(&self) -> web::Limits {
        // ok: `check` refused every value below 1 or above its range before this runs, so the
        // conversions cannot fail.
        let secs = |v: i64| std::time::Duration::from_secs(u64::try_from(v).unwrap_or(1));
        let count = |v: i64| u32::try_from(v).unwrap_or(1);
        web::Limits {
            header_read_timeout: secs(self.header_read_timeout_seconds),
            body_read_timeout: secs(self.body_read_timeout_seconds),
            simulation_deadline: secs(self.simulation_deadline_seconds),
            check_deadline: secs(self.check_deadline_seconds),
            sign_in_per_minute: count(self.sign_in_per_minute),
            public_per_minute: count(self.public_per_minute),
            token_checks_per_minute: count(self.token_checks_per_minute),
            report_lines: count(self.report_lines),
        }
    }
}

/// Caps on racemic ketamine doses, mg/kg (defaults and accepted ranges in `pk::dose`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct DosingConfig {
    pub(crate) max_mg_per_kg: f64,
    pub(crate) max_oral_mg_per_kg: f64,
    pub(crate) min_mg_per_kg: f64,
    pub(crate) min_infusion_min: f64,
}

impl Default for DosingConfig {
    fn default() -> Self {
        let caps = pk::dose::DoseCaps::default();
        let floor = pk::dose::PlanningFloor::default();
        DosingConfig {
            max_mg_per_kg: caps.max_mg_per_kg,
            max_oral_mg_per_kg: caps.max_oral_mg_per_kg,
            min_mg_per_kg: floor.min_mg_per_kg,
            min_infusion_min: floor.min_infusion_min,
        }
    }
}

impl DosingConfig {
    pub(crate) fn caps(&self) -> pk::dose::DoseCaps {
        pk::dose::DoseCaps {
            max_mg_per_kg: self.max_mg_per_kg,
            max_oral_mg_per_kg: self.max_oral_mg_per_kg,
        }
    }

    pub(crate) fn floor(&self) -> pk::dose::PlanningFloor {
        pk::dose::PlanningFloor {
            min_mg_per_kg: self.min_mg_per_kg,
            min_infusion_min: self.min_infusion_min,
        }
    }
}

/// How long each kind of appointment lasts by default (defaults and sources in
/// `clinical::booking::KindDurations`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AppointmentsConfig {
    pub(crate) iv_infusion_min: u32,
    pub(crate) esketamine_min: u32,
    pub(crate) im_min: u32,
    pub(crate) oral_min: u32,
    pub(crate) intake_min: u32,
    pub(crate) follow_up_min: u32,
}

impl Default for AppointmentsConfig {
    fn default() -> Self {
        let d = clinical::booking::KindDurations::default();
        AppointmentsConfig {
            iv_infusion_min: d.iv_infusion,
            esketamine_min: d.esketamine,
            im_min: d.im,
            oral_min: d.oral,
            intake_min: d.intake,
            follow_up_min: d.follow_up,
        }
    }
}

/// Thresholds of the alerts vital signs raise during a session (defaults and their sources in
/// `clinical::session`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SessionAlertsConfig {
    pub(crate) systolic_max: u16,
    pub(crate) diastolic_max: u16,
    pub(crate) systolic_rise: u16,
    pub(crate) diastolic_rise: u16,
    pub(crate) heart_rate_max: u16,
    pub(crate) heart_rate_min: u16,
    pub(crate) spo2_min: u16,
    pub(crate) respiratory_rate_min: u16,
}

impl Default for SessionAlertsConfig {
    fn default() -> Self {
        let d = clinical::session::AlertSettings::default();
        SessionAlertsConfig {
            systolic_max: d.systolic_max,
            diastolic_max: d.diastolic_max,
            systolic_rise: d.systolic_rise,
            diastolic_rise: d.diastolic_rise,
            heart_rate_max: d.heart_rate_max,
            heart_rate_min: d.heart_rate_min,
            spo2_min: d.spo2_min,
            respiratory_rate_min: d.respiratory_rate_min,
        }
    }
}

impl SessionAlertsConfig {
    pub(crate) fn settings(&self) -> clinical::session::AlertSettings {
        clinical::session::AlertSettings {
            systolic_max: self.systolic_max,
            diastolic_max: self.diastolic_max,
            systolic_rise: self.systolic_rise,
            diastolic_rise: self.diastolic_rise,
            heart_rate_max: self.heart_rate_max,
            heart_rate_min: self.heart_rate_min,
            spo2_min: self.spo2_min,
            respiratory_rate_min: self.respiratory_rate_min,
        }
    }
}

/// When the dissociation and sedation scales are taken in the chair, minutes from the start of
/// dosing (defaults and their source in `clinical::session`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SessionScalesConfig {
    pub(crate) cadss6_minutes: Vec<u32>,
    pub(crate) moaas_minutes: Vec<u32>,
}

impl Default for SessionScalesConfig {
    fn default() -> Self {
        let d = clinical::session::ScaleSettings::default();
        SessionScalesConfig {
            cadss6_minutes: d.cadss6_minutes,
            moaas_minutes: d.moaas_minutes,
        }
    }
}

impl SessionScalesConfig {
    pub(crate) fn settings(&self) -> clinical::session::ScaleSettings {
        clinical::session::ScaleSettings {
            cadss6_minutes: self.cadss6_minutes.clone(),
            moaas_minutes: self.moaas_minutes.clone(),
        }
    }
}

/// The controlled-substance ledger.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct LedgerConfig {
    /// Waste and breakage witnessed by a second person with their own password. A state or
    /// institutional rule, not a federal one (research `clinical.md` §6.4): on by default.
    pub(crate) witness_waste: bool,
    /// Days an opened vial is drawn from after its first entry, unless its manufacturer says
    /// otherwise: 28 after USP <797> and the CDC (`clinical::ledger::OPENED_VIAL_DAYS`); 0
    /// makes every vial single use.
    pub(crate) opened_vial_days: u32,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            witness_waste: true,
            opened_vial_days: clinical::ledger::OPENED_VIAL_DAYS,
        }
    }
}

impl AppointmentsConfig {
    pub(crate) fn durations(&self) -> clinical::booking::KindDurations {
        clinical::booking::KindDurations {
            iv_infusion: self.iv_infusion_min,
            esketamine: self.esketamine_min,
            im: self.im_min,
            oral: self.oral_min,
            intake: self.intake_min,
            follow_up: self.follow_up_min,
        }
    }
}

/// The candidate screening's thresholds (defaults and their sources in `clinical::screening`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ScreeningConfig {
    pub(crate) systolic_mmhg: u16,
    pub(crate) diastolic_mmhg: u16,
    pub(crate) trd_min_trials: u32,
    pub(crate) min_age_years: u32,
}

impl Default for ScreeningConfig {
    fn default() -> Self {
        let s = clinical::screening::ScreeningSettings::default();
        ScreeningConfig {
            systolic_mmhg: s.systolic_mmhg,
            diastolic_mmhg: s.diastolic_mmhg,
            trd_min_trials: s.trd_min_trials,
            min_age_years: s.min_age_years,
        }
    }
}

impl ScreeningConfig {
    pub(crate) fn settings(&self) -> clinical::screening::ScreeningSettings {
        clinical::screening::ScreeningSettings {
            systolic_mmhg: self.systolic_mmhg,
            diastolic_mmhg: self.diastolic_mmhg,
            trd_min_trials: self.trd_min_trials,
            min_age_years: self.min_age_years,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SelfReportConfig {
    pub(crate) link_hours: i64,
    pub(crate) crisis_message: String,
}

impl Default for SelfReportConfig {
    /// Links last 72 hours (the product's stated default); the crisis message names the US
    /// 988 Suicide & Crisis Lifeline, which answers calls and texts to 988.
    fn default() -> Self {
        SelfReportConfig {
            link_hours: 72,
            crisis_message:
                "If you are thinking about harming yourself or feel unsafe, call or text 988 \
                             (Suicide & Crisis Lifeline, US) now, or call 911 in an emergency."
                    .into(),
        }
    }
}

/// The public inquiry page: how long inquiries are kept, and what the thank-you page promises.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct InquiryConfig {
    pub(crate) retention_days: i64,
    pub(crate) call_back: String,
}

impl Default for InquiryConfig {
    /// 90 days: a clinic policy, not a legal or clinical figure (an inquiry is contact details
    /// only; one not taken further is of no use after a season). Clinics set their own.
    fn default() -> Self {
        InquiryConfig {
            retention_days: 90,
            call_back: "within one working day".into(),
        }
    }
}

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct DatabaseConfig {
    pub(crate) url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://ketaflow.db".into(),
        }
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = store::DatabaseUrl::parse(&self.url)
            .map_or_else(|_| "<unparsed>".to_owned(), |u| u.to_string());
        f.debug_struct("DatabaseConfig")
            .field("url", &shown)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ServerConfig {
    pub(crate) addr: String,
    pub(crate) secure_cookies: bool,
    /// PEM certificate chain; with `tls_key`, the server speaks HTTPS itself.
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub(crate) tls_key: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: "127.0.0.1:8080".into(),
            secure_cookies: false,
            tls_cert: None,
            tls_key: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SecurityConfig {
    pub(crate) idle_timeout_minutes: i64,
    pub(crate) session_max_hours: i64,
    pub(crate) max_failed_logins: i64,
    pub(crate) lockout_minutes: i64,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            idle_timeout_minutes: 15,
            session_max_hours: 12,
            max_failed_logins: 5,
            lockout_minutes: 15,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ClinicConfig {
    pub(crate) name: String,
    pub(crate) timezone: String,
}

impl Default for ClinicConfig {
    fn default() -> Self {
        ClinicConfig {
            name: "Ketaflow Clinic".into(),
            timezone: "America/New_York".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct LogConfig {
    pub(crate) filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            filter: "info,sqlx=warn,tower_http=info".into(),
        }
    }
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    pub(crate) database: Option<String>,
    pub(crate) addr: Option<String>,
}

/// Where the configuration file is: `--config`, else `KETAFLOW_CONFIG`, else `ketaflow.toml`
/// in the working directory if it exists.
fn config_file(
    explicit: Option<&Path>,
    env: &[(String, String)],
) -> anyhow::Result<Option<PathBuf>> {
    let named = explicit
        .map(Path::to_path_buf)
        .or_else(|| lookup(env, "KETAFLOW_CONFIG").map(PathBuf::from));
    match named {
        Some(path) if !path.exists() => {
            bail!("configuration file {} does not exist", path.display())
        }
        Some(path) => Ok(Some(path)),
        None => {
            let default = PathBuf::from("ketaflow.toml");
            Ok(default.exists().then_some(default))
        }
    }
}

fn lookup<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `DATABASE_URL` → `database.url`; `SECURITY__LOCKOUT_MINUTES` → `security.lockout_minutes`.
fn env_key(var: &str) -> Option<String> {
    let rest = var.strip_prefix("KETAFLOW_")?;
    if rest == "DATABASE_URL" {
        return Some("database.url".into());
    }
    Some(rest.to_ascii_lowercase().replace("__", "."))
}

/// Loads the configuration from the given environment (pass `std::env::vars()` collected).
///
/// Returns the configuration and the warnings to print (unknown `KETAFLOW_*` variables).
pub(crate) fn load(
    file: Option<&Path>,
    env: &[(String, String)],
    overrides: &Overrides,
) -> anyhow::Result<(Config, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut figment = Figment::new();
    if let Some(path) = config_file(file, env)? {
        figment = figment.merge(Toml::file_exact(&path));
    }
    let mut env_values = Vec::new();
    for (var, value) in env {
        if !var.starts_with("KETAFLOW_")
            || OTHER_VARS.contains(&var.as_str())
            || var.starts_with("KETAFLOW_TEST_")
        {
            continue;
        }
        // KETAFLOW_<SETTING>_FILE: the setting's value is the named file's content (for
        // secrets handed over as files, as container platforms do), never logged.
        if let Some(setting) = var.strip_suffix("_FILE")
            && let Some(key) = env_key(setting).filter(|k| KEYS.contains(&k.as_str()))
        {
            let content =
                std::fs::read_to_string(value).with_context(|| format!("reading {var} {value}"))?;
            env_values.push((key, content.trim().to_owned()));
            continue;
        }
        match env_key(var) {
            Some(key) if KEYS.contains(&key.as_str()) => env_values.push((key, value.clone())),
            _ => warnings.push(format!(
                "ignoring environment variable {var}: it is not a Ketaflow setting (see `ketaflow config example`)"
            )),
        }
    }
    // Values parse as the environment provider would: numbers and booleans become typed.
    for (key, value) in env_values {
        let value: figment::value::Value = value.parse().unwrap_or_else(|_| value.as_str().into());
        figment = figment.merge(Serialized::default(&key, value));
    }
    if let Some(path) = lookup(env, "KETAFLOW_DATABASE_URL_FILE") {
        let url = std::fs::read_to_string(path)
            .with_context(|| format!("reading KETAFLOW_DATABASE_URL_FILE {path}"))?;
        figment = figment.merge(Serialized::default("database.url", url.trim().to_owned()));
    }
    if let Some(db) = &overrides.database {
        figment = figment.merge(Serialized::default("database.url", db));
    }
    if let Some(addr) = &overrides.addr {
        figment = figment.merge(Serialized::default("server.addr", addr));
    }
    let config: Config = figment
        .extract()
        .map_err(|e| anyhow::format_err!("configuration: {e}"))?;
    config.check()?;
    Ok((config, warnings))
}

impl Config {
    /// Checks ranges and formats that types alone do not.
    fn check(&self) -> anyhow::Result<()> {
        self.addr()?;
        store::DatabaseUrl::parse(&self.database.url).context("configuration: database.url")?;
        let ranges = [
            (
                "security.idle_timeout_minutes",
                self.security.idle_timeout_minutes,
                1,
                720,
            ),
            (
                "security.session_max_hours",
                self.security.session_max_hours,
                1,
                24,
            ),
            (
                "security.max_failed_logins",
                self.security.max_failed_logins,
                3,
                20,
            ),
            (
                "security.lockout_minutes",
                self.security.lockout_minutes,
                1,
                1440,
            ),
            (
                "limits.header_read_timeout_seconds",
                self.limits.header_read_timeout_seconds,
                1,
                120,
            ),
            (
                "limits.body_read_timeout_seconds",
                self.limits.body_read_timeout_seconds,
                1,
                600,
            ),
            (
                "limits.simulation_deadline_seconds",
                self.limits.simulation_deadline_seconds,
                1,
                120,
            ),
            (
                "limits.check_deadline_seconds",
                self.limits.check_deadline_seconds,
                1,
                300,
            ),
            (
                "limits.sign_in_per_minute",
                self.limits.sign_in_per_minute,
                1,
                1000,
            ),
            (
                "limits.public_per_minute",
                self.limits.public_per_minute,
                1,
                10000,
            ),
            (
                "limits.token_checks_per_minute",
                self.limits.token_checks_per_minute,
                1,
                100_000,
            ),
            ("limits.report_lines", self.limits.report_lines, 1, 100_000),
            (
                "ledger.opened_vial_days",
                self.ledger.opened_vial_days.into(),
                0,
                365,
            ),
            (
                "inquiry.retention_days",
                self.inquiry.retention_days,
                7,
                3650,
            ),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                bail!("configuration: {key} is {value}; use a whole number from {min} to {max}");
            }
        }
        if jiff::tz::TimeZone::get(&self.clinic.timezone).is_err() {
            bail!(
                "configuration: clinic.timezone '{}' is not an IANA time zone; use a name such as America/Chicago",
                self.clinic.timezone
            );
        }
        if self.self_report.crisis_message.trim().is_empty() {
            bail!(
                "configuration: self_report.crisis_message is empty; give the crisis line patients should use"
            );
        }
        if let Err(e) = self.dosing.caps().check() {
            bail!("configuration: dosing.{e}");
        }
        if let Err(e) = self.dosing.floor().check() {
            bail!("configuration: dosing.{e}");
        }
        if let Err(e) = self.screening.settings().check() {
            bail!("configuration: {e}");
        }
        if let Err(e) = self.appointments.durations().check() {
            bail!("configuration: {e}");
        }
        if let Err(e) = self.session_alerts.settings().check() {
            bail!("configuration: {e}");
        }
        if let Err(e) = self.session_scales.settings().check() {
            bail!("configuration: {e}");
        }
        if self.inquiry.call_back.trim().is_empty() {
            bail!(
                "configuration: inquiry.call_back is empty; say when the clinic calls back, such as \"within one working day\""
            );
        }
        if self.clinic.name.trim().is_empty() {
            bail!("configuration: clinic.name is empty; give the clinic's name");
        }
        Ok(())
    }

    pub(crate) fn addr(&self) -> anyhow::Result<SocketAddr> {
        self.server.addr.parse().map_err(|_| {
            anyhow::format_err!(
                "configuration: server.addr '{}' is not an address and port such as 127.0.0.1:8080",
                self.server.addr
            )
        })
    }

    pub(crate) fn login_settings(&self, demo_mode: bool) -> store::LoginSettings {
        store::LoginSettings {
            max_failed_logins: self.security.max_failed_logins,
            lockout: jiff::SignedDuration::from_mins(self.security.lockout_minutes),
            idle_timeout: jiff::SignedDuration::from_mins(self.security.idle_timeout_minutes),
            session_lifetime: jiff::SignedDuration::from_hours(self.security.session_max_hours),
            demo_mode,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_example_file_states_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let (from_file, _) = load(Some(&path), &[], &Overrides::default()).unwrap();
        let defaults = Config::default();
        assert_eq!(format!("{from_file:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(
            &path,
            "[server]\naddr = \"0.0.0.0:9000\"\n[security]\nidle_timeout_minutes = 30\nlockout_minutes = 20\n",
        )
        .unwrap();
        let vars = env(&[
            ("KETAFLOW_SECURITY__IDLE_TIMEOUT_MINUTES", "10"),
            ("KETAFLOW_DATABASE_URL", "postgres://u:pw@db/k"),
            ("KETAFLOW_TEST_POSTGRES_URL", "ignored quietly"),
            ("KETAFLOW_SECURTY__LOCKOUT_MINUTES", "1"),
        ]);
        let overrides = Overrides {
            addr: Some("127.0.0.1:7000".into()),
            ..Overrides::default()
        };
        let (c, warnings) = load(Some(&path), &vars, &overrides).unwrap();
        assert_eq!(c.server.addr, "127.0.0.1:7000"); // flag beats file
        assert_eq!(c.security.idle_timeout_minutes, 10); // env beats file
        assert_eq!(c.security.lockout_minutes, 20); // file beats default
        assert_eq!(c.security.max_failed_logins, 5); // default
        assert_eq!(c.database.url, "postgres://u:pw@db/k");
        assert!(!format!("{c:?}").contains(":pw@"), "{c:?}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("KETAFLOW_SECURTY__LOCKOUT_MINUTES"));
        let flagged = Overrides {
            database: Some("sqlite://x.db".into()),
            ..Overrides::default()
        };
        let (c, _) = load(Some(&path), &vars, &flagged).unwrap();
        assert_eq!(c.database.url, "sqlite://x.db");
    }

    #[test]
    fn any_setting_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("url");
        std::fs::write(&url, "postgres://kf:pw-from-file@db/kf\n").unwrap();
        let lockout = dir.path().join("lockout");
        std::fs::write(&lockout, "30\n").unwrap();
        let vars = env(&[
            ("KETAFLOW_DATABASE__URL_FILE", url.to_str().unwrap()),
            (
                "KETAFLOW_SECURITY__LOCKOUT_MINUTES_FILE",
                lockout.to_str().unwrap(),
            ),
        ]);
        let (config, warnings) = load(None, &vars, &Overrides::default()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.database.url, "postgres://kf:pw-from-file@db/kf");
        assert_eq!(config.security.lockout_minutes, 30);
        let missing = env(&[("KETAFLOW_DATABASE__URL_FILE", "/nonexistent/secret")]);
        let err = load(None, &missing, &Overrides::default()).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("KETAFLOW_DATABASE__URL_FILE"), "{text}");
        assert!(!text.contains("pw-from-file"), "{text}");
    }

    #[test]
    fn database_url_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("db-url");
        std::fs::write(&secret, "postgres://kf:s3cret@db/kf\n").unwrap();
        let vars = env(&[("KETAFLOW_DATABASE_URL_FILE", secret.to_str().unwrap())]);
        let none = dir.path().join("absent.toml");
        std::fs::write(&none, "").unwrap();
        let (c, warnings) = load(Some(&none), &vars, &Overrides::default()).unwrap();
        assert_eq!(c.database.url, "postgres://kf:s3cret@db/kf");
        assert!(warnings.is_empty());
    }

    #[test]
    fn bad_values_name_the_key_and_the_accepted_range() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        let cases = [
            (
                "[security]\nidle_timeout_minutes = 0\n",
                "security.idle_timeout_minutes is 0; use a whole number from 1 to 720",
            ),
            (
                "[clinic]\ntimezone = \"Mars/Olympus\"\n",
                "not an IANA time zone",
            ),
            (
                "[server]\naddr = \"localhost\"\n",
                "server.addr 'localhost' is not an address",
            ),
            ("[server]\nport = 80\n", "unknown field"),
            ("[database]\nurl = \"mysql://x\"\n", "database.url"),
        ];
        for (toml, fragment) in cases {
            std::fs::write(&path, toml).unwrap();
            let err = load(Some(&path), &[], &Overrides::default()).unwrap_err();
            let chain = format!("{err:#}");
            assert!(chain.contains(fragment), "{toml}: {chain}");
        }
        let missing = load(
            Some(Path::new("/nonexistent/k.toml")),
            &[],
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(missing.to_string().contains("does not exist"));
    }
}
