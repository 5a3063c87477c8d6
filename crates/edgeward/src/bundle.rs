//! Where a token file lives: a directory, a file, or an EdgeWorkers bundle (`.tgz`). Every write
//! is atomic (a temporary file in the same directory, fsynced, then renamed), so an interrupted
//! run leaves the old file or archive whole. Inside an archive only `edgekv_tokens.js` changes:
//! every other member keeps its bytes, order, mode and timestamps.
#![allow(clippy::disallowed_methods, reason = "the CLI reads and writes the operator's token files and bundles")]

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::tokenfile::FILE_NAME;

/// A resolved `--save-path` (or `bundle check` path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A plain `edgekv_tokens.js` file.
    File(PathBuf),
    /// An EdgeWorkers bundle; the token file is the root member `edgekv_tokens.js`.
    Archive(PathBuf),
}

impl Target {
    /// Decide from the path: `*.tgz`/`*.tar.gz` → an existing archive; an existing directory →
    /// its `edgekv_tokens.js`; anything else ending in `.js` → that file, in a directory that
    /// exists.
    pub fn resolve(path: &Path) -> Result<Self> {
        let s = path.to_string_lossy();
        if s.ends_with(".tgz") || s.ends_with(".tar.gz") {
            // A bundle is never made here: a typo in its name must not pass for success while the
            // real bundle stays untouched.
            if !path.exists() {
                bail!(
                    "{}: no such bundle; build the EdgeWorkers bundle first, or give a directory or a .js file",
                    path.display()
                );
            }
            return Ok(Self::Archive(path.to_owned()));
        }
        if path.is_dir() {
            return Ok(Self::File(path.join(FILE_NAME)));
        }
        if s.ends_with(".js") {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if !parent.is_dir() {
                bail!("{}: the directory {} does not exist", path.display(), parent.display());
            }
            return Ok(Self::File(path.to_owned()));
        }
        if !path.exists() && (s.ends_with('/') || path.extension().is_none()) {
            bail!("{}: no such directory; create it first, or give a .js file or a .tgz bundle", path.display());
        }
        bail!("{}: not a directory, a .js file or a .tgz bundle", path.display())
    }

    /// Where the token file is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::File(p) => p.display().to_string(),
            Self::Archive(p) => format!("{}:{FILE_NAME}", p.display()),
        }
    }

    /// The token file's text, if there is one.
    pub fn load(&self) -> Result<Option<String>> {
        match self {
            Self::File(p) => match fs::read(p) {
                Ok(b) => Ok(Some(String::from_utf8(b).with_context(|| format!("{} is not UTF-8", p.display()))?)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).with_context(|| format!("cannot read {}", p.display())),
            },
            Self::Archive(p) => {
                for m in read_archive(p)? {
                    if is_token_member(&m.path) {
                        return Ok(Some(
                            String::from_utf8(m.data).context("edgekv_tokens.js in the bundle is not UTF-8")?,
                        ));
                    }
                }
                Ok(None)
            }
        }
    }

    /// Write the token file's text atomically.
    pub fn store(&self, text: &str) -> Result<()> {
        match self {
            Self::File(p) => write_atomic(p, text.as_bytes(), None),
            Self::Archive(p) => {
                let mut members = read_archive(p)?;
                match members.iter_mut().find(|m| is_token_member(&m.path)) {
                    Some(m) => m.data = text.as_bytes().to_vec(),
                    None => {
                        let mut header = tar::Header::new_gnu();
                        header.set_entry_type(tar::EntryType::Regular);
                        header.set_mode(0o644);
                        header.set_mtime(u64::try_from(crate::now().timestamp()).unwrap_or(0));
                        members.push(Member {
                            path: FILE_NAME.into(),
                            header,
                            data: text.as_bytes().to_vec(),
                            link: None,
                        });
                    }
                }
                let mut out = Vec::new();
                {
                    let gz = flate2::write::GzEncoder::new(&mut out, flate2::Compression::default());
                    let mut b = tar::Builder::new(gz);
                    for mut m in members {
                        match &m.link {
                            Some(target) => b.append_link(&mut m.header, &m.path, target)?,
                            // A name that fits the header is written as the bundle had it
                            // (`./main.js` keeps its `./`); a longer one goes through the
                            // crate's long-name extension.
                            None if m.path.len() < 100 && m.header.path_bytes().as_ref() == m.path.as_bytes() => {
                                m.header.set_size(m.data.len() as u64);
                                m.header.set_cksum();
                                b.append(&m.header, m.data.as_slice())?
                            }
                            None => {
                                m.header.set_size(m.data.len() as u64);
                                b.append_data(&mut m.header, &m.path, m.data.as_slice())?
                            }
                        }
                    }
                    b.into_inner()?.finish()?;
                }
                let mode = fs::metadata(p).ok().map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()));
                write_atomic(p, &out, mode)
            }
        }
    }
}

fn is_token_member(path: &str) -> bool {
    path.trim_start_matches("./") == FILE_NAME
}

struct Member {
    path: String,
    header: tar::Header,
    data: Vec<u8>,
    link: Option<PathBuf>,
}

/// The members of a bundle; a bundle that does not exist yet has none.
fn read_archive(p: &Path) -> Result<Vec<Member>> {
    let f = match fs::File::open(p) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", p.display())),
    };
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for e in a.entries().with_context(|| format!("{} is not a gzipped tar archive", p.display()))? {
        let mut e = e.with_context(|| format!("{} is not a valid gzipped tar archive", p.display()))?;
        let path = e.path()?.to_string_lossy().into_owned();
        let link = e.link_name()?.map(|l| l.into_owned());
        let header = e.header().clone();
        let mut data = Vec::new();
        e.read_to_end(&mut data)?;
        out.push(Member { path, header, data, link });
    }
    Ok(out)
}

/// Write `bytes` to `path` through a temporary file in the same directory. A symbolic link is
/// written through: its target is replaced, and the link stays a link.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let through;
    let path = if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        through = fs::canonicalize(path).with_context(|| format!("{} is a link to nothing", path.display()))?;
        through.as_path()
    } else {
        path
    };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    let mode =
        mode.or_else(|| fs::metadata(path).ok().map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions())));
    fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(mode.unwrap_or(0o644) & 0o7777))?;
    tmp.persist(path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
