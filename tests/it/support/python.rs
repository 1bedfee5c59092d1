//! The official OpenTelemetry Python SDK for the interoperability test, provisioned by the test
//! itself: a virtualenv under the target directory (`<target>/python-venv`) with
//! `tests/python/requirements.txt` installed, made once and remade when the requirements change.
//! A file lock keeps test processes running in parallel from making it twice, a `OnceLock` the
//! threads of one process.
//!
//! `$PYTHON` overrides it all: a Python with the requirements already installed.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `tests/python/<name>`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

/// The Python interpreter to run the scripts with.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| match std::env::var_os("PYTHON") {
        Some(python) => PathBuf::from(python),
        None => provision(),
    })
}

/// The target directory: this test binary is `<target>/<profile>/deps/it-<hash>`.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
}

fn provision() -> PathBuf {
    let requirements_file = script("requirements.txt");
    let requirements =
        std::fs::read_to_string(&requirements_file).expect("tests/python/requirements.txt");
    let target = target_dir();
    std::fs::create_dir_all(&target).expect("the target directory");
    let venv = target.join("python-venv");
    let python = venv.join("bin").join("python");
    // What the venv was made with: it is ready when this matches the requirements.
    let stamp = venv.join("requirements.installed");

    let lock = File::create(target.join("python-venv.lock")).expect("the venv's lock file");
    lock.lock().expect("locking the venv's lock file");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(requirements.as_str()) {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let system_python = "python3";
    run(
        Command::new(system_python).args(["-m", "venv"]).arg(&venv),
        &format!(
            "`{system_python} -m venv {}` failed: install Python 3 with its venv module \
             (Debian/Ubuntu: `apt install python3-venv`), or set PYTHON to a python3 that has \
             tests/python/requirements.txt installed",
            venv.display()
        ),
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements_file),
        &format!(
            "pip could not install tests/python/requirements.txt into {} (it needs PyPI or a \
             mirror: PIP_INDEX_URL); or set PYTHON to a python3 that has them installed \
             (`python3 -m pip install -r tests/python/requirements.txt`)",
            venv.display()
        ),
    );
    std::fs::write(&stamp, &requirements).expect("the venv's stamp");
    python
}

fn run(command: &mut Command, what_failed: &str) {
    match command.output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "{what_failed}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => panic!("{what_failed}: {error}"),
    }
}
