//! `inroad user …` and `inroad token …`: who may use the dashboard and the JSON API.
//! Passwords and tokens are checked and hashed by `inroad_engine::auth`; nothing here
//! prints a secret except a new token, once.

use anyhow::{bail, Context};
use inroad_engine::auth;
use serde_json::json;

use crate::cli::{TokenCommand, UserCommand, UserPassword};
use crate::mailbox::{check_variable_name, read_password};
use crate::print_json;

pub fn run_user(db: &str, cmd: UserCommand) -> anyhow::Result<()> {
    let mut store = inroad_store::open(db)?;
    match cmd {
        UserCommand::Add { name, password } => {
            let password = new_password(&name, &password)?;
            auth::add_user(store.as_mut(), &name, &password, now())?;
            eprintln!("added user {name}: they can log in to `inroad serve`");
        }
        UserCommand::List { json } => {
            let users = store.users()?;
            if json {
                let users: Vec<_> = users
                    .iter()
                    .map(|u| json!({"name": u.name, "created_at": rfc3339(u.created_at)}))
                    .collect();
                return print_json(&json!({ "users": users }));
            }
            for u in &users {
                println!("{}\tadded {}", u.name, rfc3339(u.created_at));
            }
            eprintln!("{} user(s)", users.len());
        }
        UserCommand::Remove { name } => {
            if !store.remove_user(&name)? {
                bail!("no user named {name:?}; `inroad user list` shows them");
            }
            eprintln!("removed user {name}; their sessions have ended");
        }
    }
    Ok(())
}

pub fn run_token(db: &str, cmd: TokenCommand) -> anyhow::Result<()> {
    let mut store = inroad_store::open(db)?;
    match cmd {
        TokenCommand::Create { name, json } => {
            let token = auth::create_token(store.as_mut(), &name, now())?;
            if json {
                print_json(&json!({"name": name, "token": token}))?;
            } else {
                println!("{token}");
            }
            eprintln!(
                "created API token {name}: it is shown only this once; send it as \
                 `Authorization: Bearer <token>` to /api/v1"
            );
        }
        TokenCommand::List { json } => {
            let tokens = store.api_tokens()?;
            if json {
                let tokens: Vec<_> = tokens
                    .iter()
                    .map(|t| {
                        json!({
                            "name": t.name,
                            "created_at": rfc3339(t.created_at),
                            "last_used": t.last_used.map(rfc3339),
                        })
                    })
                    .collect();
                return print_json(&json!({ "tokens": tokens }));
            }
            for t in &tokens {
                let used = t
                    .last_used
                    .map_or("never used".to_owned(), |at| format!("last used {}", rfc3339(at)));
                println!("{}\tcreated {}\t{used}", t.name, rfc3339(t.created_at));
            }
            eprintln!("{} token(s)", tokens.len());
        }
        TokenCommand::Revoke { name } => {
            if !store.revoke_api_token(&name)? {
                bail!("no API token named {name:?}; `inroad token list` shows them");
            }
            eprintln!("revoked API token {name}");
        }
    }
    Ok(())
}

/// The new user's password, from the named environment variable or stdin.
fn new_password(name: &str, source: &UserPassword) -> anyhow::Result<String> {
    match &source.password_env {
        Some(var) => {
            check_variable_name(var)?;
            std::env::var(var).with_context(|| format!("--password-env {var}: cannot read the variable"))
        }
        None => read_password(
            &format!("user {name}"),
            "printf '%s\\n' \"$PASSWORD\" | inroad user add NAME --password-stdin",
        ),
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Unix seconds as RFC 3339 (UTC), as the other listings show times.
fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map_or_else(|_| unix.to_string(), |at| at.to_string())
}
