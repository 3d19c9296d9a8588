//! `ketaflow user add` and `ketaflow token create`.

use std::io::BufRead;

use anyhow::Context;
use clinical::patient::{Email, PersonName};
use store::{Actor, PasswordHash, Role, StoreError};

use crate::InputError;
use crate::config::Config;
use crate::serve::open_store;

/// The first line of standard input, without its line ending.
pub(crate) fn read_password_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

fn input(message: String) -> anyhow::Error {
    anyhow::Error::new(InputError(message))
}

pub(crate) async fn add(
    config: &Config,
    email: &str,
    role: &str,
    name: Option<&str>,
    password: &str,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| input(format!("--email: {e}")))?;
    let role = Role::parse(role).ok_or_else(|| {
        let codes: Vec<_> = Role::ALL.iter().map(|r| r.code()).collect();
        input(format!(
            "--role: '{role}' is not a role; use one of {}",
            codes.join(", ")
        ))
    })?;
    let default_name = email
        .as_str()
        .split('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    let name = PersonName::parse("--name", name.unwrap_or(&default_name))
        .map_err(|e| input(e.to_string()))?;
    let hash = PasswordHash::new(password).map_err(|e| input(format!("password: {e}")))?;
    let store = open_store(config).await?;
    let now = jiff::Timestamp::now();
    let actor = Actor::system("cli");
    let site = store
        .ensure_site(
            &actor,
            config.clinic.name.trim(),
            &config.clinic.timezone,
            now,
        )
        .await?;
    let user = match store
        .create_user(
            &actor,
            &site.id,
            store::NewUser {
                email: &email,
                display_name: name.as_str(),
                role,
                password: &hash,
            },
            now,
        )
        .await
    {
        Ok(u) => u,
        Err(StoreError::Conflict { .. }) => {
            return Err(input(format!(
                "an account with the email {} already exists",
                email.as_str()
            )));
        }
        Err(e) => return Err(e).context("adding the user"),
    };
    store.close().await;
    println!(
        "Added {} ({}) to {}.",
        user.email,
        user.role.label(),
        site.name
    );
    Ok(())
}

pub(crate) async fn create_token(
    config: &Config,
    email: &str,
    label: &str,
    expires_in_days: Option<u32>,
) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now();
    let expires_at = expires_in_days
        .map(|d| now.checked_add(jiff::SignedDuration::from_hours(24 * i64::from(d))))
        .transpose()
        .context("working out the expiry")?;
    let store = open_store(config).await?;
    let user = store.user_by_email(email).await?.ok_or_else(|| {
        input(format!(
            "--email: no account has the email {}",
            email.trim()
        ))
    })?;
    let (_, secret) = store
        .create_api_token_expiring(&Actor::system("cli"), &user.id, label, expires_at, now)
        .await
        .context("creating the token")?;
    store.close().await;
    let until = expires_at.map_or_else(|| "until revoked".to_owned(), |t| format!("until {t}"));
    eprintln!(
        "Token for {} ({}), valid {until}. It is shown only this once; keep it secret.",
        user.email,
        user.role.label()
    );
    println!("{secret}");
    Ok(())
}
