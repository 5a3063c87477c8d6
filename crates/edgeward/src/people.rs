//! `edgeward user …`, `edgeward role …` and `edgeward contact …`: the people told about
//! expiring tokens, the roles that give them grants, and the escalation contacts, managed on the
//! server's data directory (like `apiclient`).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use clap::Subcommand;

use edgeward_core::audit::actions;
use edgeward_core::capability::Grants;
use edgeward_core::names::RoleName;
use edgeward_core::notify::{Contact, User, UserUpdate};
use edgeward_core::role::{self, Role};

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
        #[arg(long = "role", value_name = "NAME")]
        roles: Vec<String>,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
    /// List the users.
    List {
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
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
        #[arg(long = "role", value_name = "NAME", conflicts_with = "no_roles")]
        roles: Vec<String>,
        /// Take every role from them.
        #[arg(long)]
        no_roles: bool,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
    /// Set a user's password (12 to 1024 characters), read from a prompt without echo or, with
    /// --password-stdin, from one line of standard input. The user need not change it at the
    /// next sign-in; for `admin`, the data directory's `admin-password` file is removed.
    SetPassword {
        /// The user's name.
        name: String,
        /// Read the password from the first line of standard input instead of a prompt.
        #[arg(long)]
        password_stdin: bool,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
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
    List {
        /// Print JSON (the API's role objects).
        #[arg(long)]
        json: bool,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
    /// Show one role and its grants.
    Show {
        /// The role's name.
        name: String,
        /// Print JSON (the API's role object).
        #[arg(long)]
        json: bool,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
    /// Add a custom role.
    Create {
        /// A unique name: a-z, 0-9, '-' and '_', starting with a letter.
        name: String,
        /// Comma-separated grants, e.g. CREATE_TOKEN,VIEW_TOKEN (or ALL).
        #[arg(long)]
        grants: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
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
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
    /// Delete a custom role that no user holds.
    Delete {
        /// The role's name.
        name: String,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
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
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
    /// List the escalation contacts.
    List {
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
    },
    /// Remove an escalation contact.
    Remove {
        /// The address.
        email: String,
        /// The data directory.
        #[arg(long, env = "EDGEWARD_DATA_DIR", default_value = "edgeward-data")]
        data_dir: PathBuf,
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
pub async fn notify(cmd: NotifyCommand, conn: &crate::token_cmd::Conn) -> Result<()> {
    use crate::render::print;
    let c = crate::token_cmd::client(conn)?;
    let api = |e: edgeward_client::ClientError| anyhow!("{e}");
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

fn check_email(e: &str) -> Result<String> {
    edgeward_core::names::EmailAddress::parse(e)
        .map(String::from)
        .map_err(|m| anyhow!("{}", m.to_string().trim_end_matches('.')))
}

fn check_name(n: &str, what: &str) -> Result<String> {
    edgeward_core::names::DisplayName::parse(n)
        .map(String::from)
        .map_err(|_| anyhow!("{what} must be 1 to 128 printable characters"))
}

/// A `--grants` list: comma-separated EdgeKV names, or ALL.
fn check_grants(grants: &str) -> Result<Grants> {
    if grants.trim().eq_ignore_ascii_case("all") {
        Ok(Grants::all())
    } else {
        Grants::parse_list(grants).map_err(|e| crate::usage!("--grants: {e}"))
    }
}

/// `--role` names, each following the role name rule (whether each exists is checked by the
/// store before it writes anything).
fn check_roles(roles: &[String]) -> Result<Vec<RoleName>> {
    roles
        .iter()
        .map(|r| {
            RoleName::parse_as(r, "roles").map_err(|e| crate::usage!("--role: {}", e.to_string().trim_end_matches('.')))
        })
        .collect()
}

fn check_role_name(name: &str) -> Result<RoleName> {
    RoleName::parse(name).map_err(|e| anyhow!("{}", e.to_string().trim_end_matches('.')))
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

pub async fn user(cmd: UserCommand, db: &crate::Database) -> Result<()> {
    match cmd {
        UserCommand::Create { name, email, registered, grants, roles, data_dir } => {
            let name = check_name(&name, "the user's name")?;
            let email = email.as_deref().map(check_email).transpose()?;
            if registered && email.is_none() {
                return Err(crate::usage!("--registered needs --email"));
            }
            let grants = check_grants(&grants)?;
            let roles = check_roles(&roles)?;
            let (store, _) = db.open(&data_dir).await?;
            let user = User {
                id: uuid::Uuid::new_v4(),
                name,
                email,
                email_registered: registered,
                active: true,
                grants,
                roles,
                created_at: crate::now(),
            };
            let target = format!("user/{}", user.name);
            let u = crate::audited(store.as_ref(), actions::USER_CREATE, target, store.create_user(user)).await?;
            println!("Created user {} ({}).", u.name, u.id);
        }
        UserCommand::List { data_dir } => {
            let (store, _) = db.open(&data_dir).await?;
            let users = store.list_users().await.map_err(|e| anyhow!("{e}"))?;
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| {
                    let roles: Vec<&str> = u.roles.iter().map(RoleName::as_str).collect();
                    vec![
                        u.name.clone(),
                        if u.active { "active" } else { "inactive" }.to_owned(),
                        u.email.clone().unwrap_or_else(|| "-".to_owned()),
                        if u.email_registered { "yes" } else { "no" }.to_owned(),
                        if roles.is_empty() { "-".to_owned() } else { roles.join(",") },
                        if u.grants.iter().next().is_none() { "-".to_owned() } else { u.grants.to_list() },
                    ]
                })
                .collect();
            let table = crate::render::table(&["NAME", "STATUS", "E-MAIL", "CONFIRMED", "ROLES", "GRANTS"], &rows);
            write!(std::io::stdout().lock(), "{table}")?;
        }
        UserCommand::Update { name, active, email, registered, roles, no_roles, data_dir } => {
            let email = email.as_deref().map(check_email).transpose()?;
            let roles = if no_roles {
                Some(Vec::new())
            } else if roles.is_empty() {
                None
            } else {
                Some(check_roles(&roles)?)
            };
            let update = UserUpdate { active, email: email.map(Some), email_registered: registered, roles };
            let (store, _) = db.open(&data_dir).await?;
            let u = crate::audited(
                store.as_ref(),
                actions::USER_UPDATE,
                format!("user/{name}"),
                store.update_user(&name, update),
            )
            .await?;
            let roles: Vec<&str> = u.roles.iter().map(RoleName::as_str).collect();
            println!(
                "User {}: {}, e-mail {} ({}), roles {}.",
                u.name,
                if u.active { "active" } else { "inactive" },
                u.email.as_deref().unwrap_or("none"),
                if u.email_registered { "confirmed" } else { "unconfirmed" },
                if roles.is_empty() { "none".to_owned() } else { roles.join(", ") }
            );
        }
        UserCommand::SetPassword { name, password_stdin, data_dir } => {
            let password = read_new_password(&name, password_stdin)?;
            let hash = edgeward_server::password::hash(&password).map_err(|e| anyhow!("{e}"))?;
            let (store, _) = db.open(&data_dir).await?;
            crate::audited(
                store.as_ref(),
                actions::USER_SET_PASSWORD,
                format!("user/{name}"),
                store.set_user_password(&name, hash, false),
            )
            .await?;
            println!("The password of {name} is set.");
            if name == edgeward_server::bootstrap::ADMIN {
                let file = data_dir.join(edgeward_server::bootstrap::ADMIN_PASSWORD_FILE);
                if edgeward_server::bootstrap::remove_initial_password(&data_dir)? {
                    println!("Removed {}: the initial password no longer signs in.", file.display());
                }
            }
        }
    }
    Ok(())
}

/// How `role list` and `role show` print a role.
fn print_role(out: &mut impl std::io::Write, r: &Role) -> Result<()> {
    let kind = if r.built_in { "built-in" } else { "custom" };
    let grants = if r.grants.iter().next().is_none() { "-".to_owned() } else { r.grants.to_list() };
    writeln!(out, "{:<24} {:<9} {grants}", r.name, kind)?;
    Ok(())
}

pub async fn role(cmd: RoleCommand, db: &crate::Database) -> Result<()> {
    let api = |e: edgeward_core::Error| anyhow!("{e}");
    match cmd {
        RoleCommand::List { json, data_dir } => {
            let (store, _) = db.open(&data_dir).await?;
            let roles = store.list_roles().await.map_err(api)?;
            let mut out = std::io::stdout().lock();
            if json {
                let shown: Vec<edgeward_wire::RoleObject> = roles.iter().map(edgeward_wire::RoleObject::from).collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&shown)?)?;
            } else {
                writeln!(out, "{:<24} {:<9} GRANTS", "NAME", "KIND")?;
                for r in &roles {
                    print_role(&mut out, r)?;
                }
            }
        }
        RoleCommand::Show { name, json, data_dir } => {
            let name = check_role_name(&name)?;
            let (store, _) = db.open(&data_dir).await?;
            let r = store
                .role(&name)
                .await
                .map_err(api)?
                .ok_or_else(|| api(edgeward_core::refusal::role_missing(&name)))?;
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&edgeward_wire::RoleObject::from(&r))?)?;
            } else {
                writeln!(out, "Role {} ({})", r.name, if r.built_in { "built-in" } else { "custom" })?;
                if !r.description.is_empty() {
                    writeln!(out, "  {}", r.description)?;
                }
                for g in r.grants.iter() {
                    writeln!(out, "  {g}")?;
                }
            }
        }
        RoleCommand::Create { name, grants, description, data_dir } => {
            let r = Role {
                name: check_role_name(&name)?,
                description: role::parse_description(&description).map_err(api)?,
                grants: check_grants(&grants)?,
                built_in: false,
            };
            let (store, _) = db.open(&data_dir).await?;
            let target = format!("role/{}", r.name);
            let r = crate::audited(store.as_ref(), actions::ROLE_CREATE, target, store.create_role(r, crate::now()))
                .await?;
            println!("Created role {} ({}).", r.name, r.grants.to_list());
        }
        RoleCommand::Update { name, grants, description, data_dir } => {
            let name = check_role_name(&name)?;
            let grants = grants.as_deref().map(check_grants).transpose()?;
            let description = description.as_deref().map(role::parse_description).transpose().map_err(api)?;
            if grants.is_none() && description.is_none() {
                bail!("nothing to change: give --grants or --description");
            }
            let (store, _) = db.open(&data_dir).await?;
            let target = format!("role/{name}");
            let r = crate::audited(
                store.as_ref(),
                actions::ROLE_UPDATE,
                target,
                store.update_role(&name, description, grants),
            )
            .await?;
            println!("Role {}: {}.", r.name, r.grants.to_list());
        }
        RoleCommand::Delete { name, data_dir } => {
            let name = check_role_name(&name)?;
            let (store, _) = db.open(&data_dir).await?;
            let target = format!("role/{name}");
            crate::audited(store.as_ref(), actions::ROLE_DELETE, target, store.delete_role(&name)).await?;
            println!("Role {name} deleted.");
        }
    }
    Ok(())
}

pub async fn contact(cmd: ContactCommand, db: &crate::Database) -> Result<()> {
    match cmd {
        ContactCommand::Add { email, name, data_dir } => {
            let contact = Contact { email: check_email(&email)?, name: check_name(&name, "--name")? };
            let (store, _) = db.open(&data_dir).await?;
            let target = format!("contact/{}", contact.email);
            crate::audited(
                store.as_ref(),
                actions::CONTACT_PUT,
                target,
                store.put_contact(contact.clone(), crate::now()),
            )
            .await?;
            println!("Escalation contact {} ({}) added.", contact.email, contact.name);
        }
        ContactCommand::List { data_dir } => {
            let (store, _) = db.open(&data_dir).await?;
            let contacts = store.list_contacts().await.map_err(|e| anyhow!("{e}"))?;
            let rows: Vec<Vec<String>> = contacts.into_iter().map(|c| vec![c.email, c.name]).collect();
            write!(std::io::stdout().lock(), "{}", crate::render::table(&["E-MAIL", "NAME"], &rows))?;
        }
        ContactCommand::Remove { email, data_dir } => {
            let (store, _) = db.open(&data_dir).await?;
            let target = format!("contact/{}", email.trim());
            crate::audited(store.as_ref(), actions::CONTACT_REMOVE, target, store.remove_contact(email.trim())).await?;
            println!("Escalation contact {} removed.", email.trim());
        }
    }
    Ok(())
}
