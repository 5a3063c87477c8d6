//! `edgeward user …`, `edgeward role …` and `edgeward contact …`: the people told about
//! expiring tokens, the roles that give them grants, and the escalation contacts, managed through
//! the admin API like `token` (the server checks every rule and audits the change as the API
//! client's). Only `user set-password` works on the data directory's database: it is how an
//! operator on the host gets back in when nobody can sign in.

use std::io::Write as _;

use anyhow::{anyhow, bail, Result};
use clap::Subcommand;

use edgeward_core::audit::actions;
use edgeward_core::capability::Grants;
use edgeward_core::notify::User;
use edgeward_wire::{ContactObject, NewRole, RoleChange, RoleObject, UserChange, UserObject};

use crate::token_cmd::{api, client, Conn};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Create {
        /// A unique name.
        name: String,
        /// Their e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// The address is confirmed: 1-day notices may be e-mailed to it.
        #[arg(long)]
        registered: bool,
        /// Comma-separated grants given to them directly, e.g. CREATE_TOKEN,VIEW_TOKEN (or ALL).
        #[arg(long, default_value = "")]
        grants: String,
        /// A role they hold (repeat for several), e.g. --role token-manager; `edgeward role list`
        /// shows them.
        #[arg(long = "role", value_name = "NAME", value_parser = role_name)]
        roles: Vec<String>,
    },
    /// List the users.
    List,
    /// Change a user: activity, e-mail address and roles.
    Update {
        /// The user's name.
        name: String,
        /// Active (told about expiring tokens) or not.
        #[arg(long)]
        active: Option<bool>,
        /// A new address (unconfirmed until --registered true).
        #[arg(long)]
        email: Option<String>,
        /// Whether the address is confirmed.
        #[arg(long)]
        registered: Option<bool>,
        /// The roles they hold from now on, replacing those they held (repeat for several).
        #[arg(long = "role", value_name = "NAME", conflicts_with = "no_roles", value_parser = role_name)]
        roles: Vec<String>,
        /// Take every role from them.
        #[arg(long)]
        no_roles: bool,
    },
    /// Set a user's password (12 to 1024 characters), read from a prompt without echo or, with
    /// --password-stdin, from one line of standard input. The user need not change it at the
    /// next sign-in; for `admin`, the data directory's `admin-password` file is removed. Works on
    /// the data directory's database (--data-dir, default ./edgeward-data), not through the API:
    /// it is how an operator on the host gets back in.
    SetPassword {
        /// The user's name.
        name: String,
        /// Read the password from the first line of standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Examples of `edgeward role`, shown by `--help`.
pub const ROLE_EXAMPLES: &str = "\
Examples:
  edgeward role list
  edgeward role show token-manager --json
  edgeward role create releasers --grants CREATE_TOKEN,VIEW_TOKEN,REVOKE_TOKEN --description \"Release team\"
  edgeward role update releasers --grants CREATE_TOKEN,VIEW_TOKEN
  edgeward user update ana --role releasers --role viewer
  edgeward role delete releasers

Built-in roles (administrator, token-manager, viewer and their -staging twins) cannot be changed
or deleted; a role that users hold cannot be deleted. A change to a role holds for every holder
from their next request on.";

#[derive(Subcommand)]
pub enum RoleCommand {
    /// List the roles: built-in ones first, then custom ones.
    List,
    /// Show one role and its grants.
    Show {
        /// The role's name.
        name: String,
    },
    /// Add a custom role.
    Create {
        /// A unique name: a-z, 0-9, '-' and '_', starting with a letter.
        #[arg(value_parser = role_name)]
        name: String,
        /// Comma-separated grants, e.g. CREATE_TOKEN,VIEW_TOKEN (or ALL).
        #[arg(long)]
        grants: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Change a custom role's grants or description (its holders get them from their next request).
    Update {
        /// The role's name.
        name: String,
        /// The grants it gives from now on (comma-separated, or ALL).
        #[arg(long)]
        grants: Option<String>,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a custom role that no user holds.
    Delete {
        /// The role's name.
        name: String,
    },
}

#[derive(Subcommand)]
pub enum ContactCommand {
    /// Add (or rename) an escalation contact.
    Add {
        /// The address.
        email: String,
        /// Who it is.
        #[arg(long)]
        name: String,
    },
    /// List the escalation contacts.
    List,
    /// Remove an escalation contact.
    Remove {
        /// The address.
        email: String,
    },
}

#[derive(Subcommand)]
pub enum NotifyCommand {
    /// Your notification panel (the user your API client belongs to), newest first.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Older than this notice id (paging).
        #[arg(long)]
        before: Option<i64>,
    },
    /// Mark notices read (all of them when no id is given).
    Read {
        /// Notice ids.
        ids: Vec<i64>,
    },
    /// Run the expiry check now.
    Run {
        /// Report what is due without recording or delivering anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// The latest runs of the expiry check.
    Status,
}

/// `edgeward notify …`, over the admin API: each answer is printed as text, or as JSON with
/// `--json` (`crate::render`).
pub async fn notify(cmd: NotifyCommand, conn: &Conn) -> Result<()> {
    use crate::render::print;
    let c = client(conn)?;
    match cmd {
        NotifyCommand::List { limit, before } => print(&c.notifications(limit, before).await.map_err(api)?, conn.json),
        NotifyCommand::Read { ids } => print(&c.mark_notifications_read(&ids).await.map_err(api)?, conn.json),
        NotifyCommand::Run { dry_run } => print(&c.run_expiry_check(dry_run).await.map_err(api)?, conn.json),
        NotifyCommand::Status => print(&c.expiry_check_status().await.map_err(api)?, conn.json),
    }
    Ok(())
}

/// A user by name, or an error naming it.
pub async fn user_by_name(store: &dyn edgeward_core::store::Store, name: &str) -> Result<User> {
    let users = store.list_users().await.map_err(|e| anyhow!("{e}"))?;
    users.into_iter().find(|u| u.name == name).ok_or_else(|| anyhow!("user {name} does not exist"))
}

/// A `--grants` list as the API takes it: comma-separated EdgeKV names, or ALL (an unknown name
/// is a usage error that lists every capability).
fn grant_names(grants: &str) -> Result<Vec<String>> {
    let grants = if grants.trim().eq_ignore_ascii_case("all") {
        Grants::all()
    } else {
        Grants::parse_list(grants).map_err(|e| crate::usage!("--grants: {e}"))?
    };
    Ok(grants.iter().map(|c| c.as_str().to_owned()).collect())
}

/// A role name given on the command line, checked before any request (a usage error, 2).
fn role_name(s: &str) -> Result<String, String> {
    edgeward_core::names::RoleName::parse(s).map(|r| r.as_str().to_owned()).map_err(|e| e.to_string())
}

/// A list for a table cell: the items, or a dash.
fn cell(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(",")
    }
}

/// The new password: one line of standard input (without its line ending), or typed twice at
/// a prompt that does not echo it. Checked for length before anything else happens.
fn read_new_password(name: &str, from_stdin: bool) -> Result<String> {
    use edgeward_server::password;
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| anyhow!("cannot read the password from standard input: {e}"))?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        line.strip_suffix('\r').unwrap_or(line).to_owned()
    } else {
        let first = rpassword::prompt_password(format!("New password for {name}: "))
            .map_err(|e| anyhow!("cannot read the password from the terminal ({e}); use --password-stdin"))?;
        password::check_new(&first).map_err(|e| anyhow!("{e}"))?;
        let again = rpassword::prompt_password("The same again: ").map_err(|e| anyhow!("{e}"))?;
        if again != first {
            bail!("the two passwords differ; nothing was changed");
        }
        first
    };
    password::check_new(&password).map_err(|e| anyhow!("{e}; nothing was changed"))?;
    Ok(password)
}

/// `edgeward user …`: over the admin API, but for `set-password` (the data directory's database).
pub async fn user(cmd: UserCommand, conn: &Conn, db: &crate::Database) -> Result<()> {
    if let UserCommand::SetPassword { name, password_stdin } = cmd {
        return set_password(&name, password_stdin, &conn.data_dir_or_default(), db).await;
    }
    let c = client(conn)?;
    match cmd {
        UserCommand::Create { name, email, registered, grants, roles } => {
            if registered && email.is_none() {
                return Err(crate::usage!("--registered needs --email"));
            }
            let user = UserObject {
                name,
                email,
                email_registered: registered,
                active: true,
                grants: grant_names(&grants)?,
                roles,
            };
            let u = c.create_user(&user).await.map_err(api)?;
            if conn.json {
                println!("{}", serde_json::json!({ "user": u }));
            } else {
                println!("Created user {}.", u.name);
            }
        }
        UserCommand::List => {
            let users = c.list_users().await.map_err(api)?;
            if conn.json {
                println!("{}", serde_json::json!({ "users": users }));
                return Ok(());
            }
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| {
                    vec![
                        u.name.clone(),
                        if u.active { "active" } else { "inactive" }.to_owned(),
                        u.email.clone().unwrap_or_else(|| "-".to_owned()),
                        if u.email_registered { "yes" } else { "no" }.to_owned(),
                        cell(&u.roles),
                        cell(&u.grants),
                    ]
                })
                .collect();
            let table = crate::render::table(&["NAME", "STATUS", "E-MAIL", "CONFIRMED", "ROLES", "GRANTS"], &rows);
            write!(std::io::stdout().lock(), "{table}")?;
        }
        UserCommand::Update { name, active, email, registered, roles, no_roles } => {
            let roles = if no_roles {
                Some(Vec::new())
            } else if roles.is_empty() {
                None
            } else {
                Some(roles)
            };
            let change = UserChange { active, email, email_registered: registered, roles };
            let u = c.update_user(&name, &change).await.map_err(api)?;
            if conn.json {
                println!("{}", serde_json::json!({ "user": u }));
            } else {
                println!(
                    "User {}: {}, e-mail {} ({}), roles {}.",
                    u.name,
                    if u.active { "active" } else { "inactive" },
                    u.email.as_deref().unwrap_or("none"),
                    if u.email_registered { "confirmed" } else { "unconfirmed" },
                    if u.roles.is_empty() { "none".to_owned() } else { u.roles.join(", ") }
                );
            }
        }
        UserCommand::SetPassword { .. } => unreachable!("handled above"),
    }
    Ok(())
}

/// `edgeward user set-password`, on the data directory's database.
async fn set_password(
    name: &str,
    password_stdin: bool,
    data_dir: &std::path::Path,
    db: &crate::Database,
) -> Result<()> {
    let password = read_new_password(name, password_stdin)?;
    let hash = edgeward_server::password::hash(&password).map_err(|e| anyhow!("{e}"))?;
    let (store, _) = db.open(data_dir).await?;
    crate::audited(
        store.as_ref(),
        actions::USER_SET_PASSWORD,
        format!("user/{name}"),
        store.set_user_password(name, hash, false),
    )
    .await?;
    println!("The password of {name} is set.");
    if name == edgeward_server::bootstrap::ADMIN {
        let file = data_dir.join(edgeward_server::bootstrap::ADMIN_PASSWORD_FILE);
        if edgeward_server::bootstrap::remove_initial_password(data_dir)? {
            println!("Removed {}: the initial password no longer signs in.", file.display());
        }
    }
    Ok(())
}

/// How `role list` prints a role.
fn role_row(r: &RoleObject) -> Vec<String> {
    vec![r.name.clone(), if r.built_in { "built-in" } else { "custom" }.to_owned(), cell(&r.grants)]
}

/// `edgeward role …`, over the admin API.
pub async fn role(cmd: RoleCommand, conn: &Conn) -> Result<()> {
    let c = client(conn)?;
    let mut out = std::io::stdout().lock();
    match cmd {
        RoleCommand::List => {
            let roles = c.list_roles().await.map_err(api)?;
            if conn.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&roles)?)?;
            } else {
                let rows: Vec<Vec<String>> = roles.iter().map(role_row).collect();
                write!(out, "{}", crate::render::table(&["NAME", "KIND", "GRANTS"], &rows))?;
            }
        }
        RoleCommand::Show { name } => {
            let r = c.role(&name).await.map_err(api)?;
            if conn.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
            } else {
                writeln!(out, "Role {} ({})", r.name, if r.built_in { "built-in" } else { "custom" })?;
                if !r.description.is_empty() {
                    writeln!(out, "  {}", r.description)?;
                }
                for g in &r.grants {
                    writeln!(out, "  {g}")?;
                }
            }
        }
        RoleCommand::Create { name, grants, description } => {
            let r = c.create_role(&NewRole { name, description, grants: grant_names(&grants)? }).await.map_err(api)?;
            if conn.json {
                writeln!(out, "{}", serde_json::json!({ "role": r }))?;
            } else {
                writeln!(out, "Created role {} ({}).", r.name, r.grants.join(","))?;
            }
        }
        RoleCommand::Update { name, grants, description } => {
            let grants = grants.as_deref().map(grant_names).transpose()?;
            if grants.is_none() && description.is_none() {
                return Err(crate::usage!("nothing to change: give --grants or --description"));
            }
            let r = c.update_role(&name, &RoleChange { description, grants }).await.map_err(api)?;
            if conn.json {
                writeln!(out, "{}", serde_json::json!({ "role": r }))?;
            } else {
                writeln!(out, "Role {}: {}.", r.name, r.grants.join(","))?;
            }
        }
        RoleCommand::Delete { name } => {
            c.delete_role(&name).await.map_err(api)?;
            if conn.json {
                writeln!(out, "{}", serde_json::json!({ "deleted": name }))?;
            } else {
                writeln!(out, "Role {name} deleted.")?;
            }
        }
    }
    Ok(())
}

/// `edgeward contact …`, over the admin API.
pub async fn contact(cmd: ContactCommand, conn: &Conn) -> Result<()> {
    let c = client(conn)?;
    match cmd {
        ContactCommand::Add { email, name } => {
            let contact = c.put_contact(&ContactObject { email, name }).await.map_err(api)?;
            if conn.json {
                println!("{}", serde_json::json!({ "contact": contact }));
            } else {
                println!("Escalation contact {} ({}) added.", contact.email, contact.name);
            }
        }
        ContactCommand::List => {
            let contacts = c.list_contacts().await.map_err(api)?;
            if conn.json {
                println!("{}", serde_json::json!({ "contacts": contacts }));
            } else {
                let rows: Vec<Vec<String>> = contacts.into_iter().map(|c| vec![c.email, c.name]).collect();
                write!(std::io::stdout().lock(), "{}", crate::render::table(&["E-MAIL", "NAME"], &rows))?;
            }
        }
        ContactCommand::Remove { email } => {
            c.remove_contact(&email).await.map_err(api)?;
            if conn.json {
                println!("{}", serde_json::json!({ "removed": email }));
            } else {
                println!("Escalation contact {email} removed.");
            }
        }
    }
    Ok(())
}
