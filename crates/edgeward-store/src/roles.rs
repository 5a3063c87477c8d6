//! What both backends do alike with roles once the rows are read: the built-in roles are core's
//! (`edgeward_core::role`), never stored, so a stored (custom) role is looked up only after them,
//! and a user's effective grants are core's one rule over the roles read.

use uuid::Uuid;

use edgeward_core::names::RoleName;
use edgeward_core::notify::User;
use edgeward_core::refusal;
use edgeward_core::role::{self, Role, UserAccess};
use edgeward_core::Error;

/// Every role: the built-in ones, then the stored ones (read by name).
pub(crate) fn all(custom: Vec<Role>) -> Vec<Role> {
    let mut roles = role::built_ins();
    roles.extend(custom);
    roles
}

/// Refuses a built-in role's name: what `update_role` and `delete_role` may not touch.
pub(crate) fn custom_only(name: &RoleName) -> Result<(), Error> {
    match role::built_in(name.as_str()) {
        Some(_) => Err(refusal::role_built_in(name)),
        None => Ok(()),
    }
}

/// The roles to give a user, sorted and without repeats; and those of them that are not built
/// in, whose rows the backend must find (or refuse the first missing one with
/// `refusal::unknown_role`) before it writes anything.
pub(crate) fn given(roles: &[RoleName]) -> (Vec<RoleName>, Vec<RoleName>) {
    let mut given = roles.to_vec();
    given.sort();
    given.dedup();
    let custom = given.iter().filter(|n| role::built_in(n.as_str()).is_none()).cloned().collect();
    (given, custom)
}

/// Give each user the roles of `held` (pairs of user id and role, as `sql::ALL_USER_ROLES`
/// reads them).
pub(crate) fn attach(users: &mut [User], held: Vec<(Uuid, RoleName)>) {
    for (id, role) in held {
        if let Some(u) = users.iter_mut().find(|u| u.id == id) {
            u.roles.push(role);
        }
    }
}

/// A user with the roles of `held` (as `sql::HELD_ROLES` reads them) and what they may do.
pub(crate) fn access(mut user: User, held: Vec<(RoleName, Option<Role>)>) -> UserAccess {
    let (names, custom): (Vec<RoleName>, Vec<Option<Role>>) = held.into_iter().unzip();
    user.roles = names;
    let custom: Vec<Role> = custom.into_iter().flatten().collect();
    UserAccess::new(user, &custom)
}
