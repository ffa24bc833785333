//! `parley flows check [DIR]`: errors and warnings as file:line:col, a non-zero exit on
//! errors.

use super::*;

fn run(dir: &std::path::Path) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(["flows", "check"])
        .arg(dir)
        .current_dir(dir)
        .env_remove("PARLEY_CONFIG")
        .output()
        .expect("parley runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn flows_check_prints_file_line_and_column_and_fails_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_flow(dir.path(), "order-status", &EXAMPLE.replace("PORT", "8081"));
    let (code, out) = run(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 flow file(s)") && out.contains("0 error(s), 0 warning(s)"), "{out}");

    write_flow(
        dir.path(),
        "broken",
        "name: Broken\nsteps:\n  a:\n    ask: \"number?\"\n    validate:\n      regex: \"[0-9\"\n    goto: b\n  b:\n    send: \"{{vars.never}}\"\n    goto: nowhere\n  lonely:\n    send: hi\n    goto: end\n",
    );
    let (code, out) = run(dir.path());
    assert_eq!(code, 1, "{out}");
    let file = dir.path().join("broken.yaml").display().to_string();
    assert!(out.contains(&format!("{file}:6:14: error: bad regex `[0-9`")), "{out}");
    assert!(out.contains(&format!("{file}:10:11: error: `nowhere` is not a step of this flow (nor `end`)")), "{out}");
    assert!(out.contains(&format!("{file}:9:11: warning: the variable `never` is never saved")), "{out}");
    assert!(out.contains(&format!("{file}:12:5: warning: the step `lonely` is never reached")), "{out}");

    write_flow(dir.path(), "broken", "name: Typo\nsteps:\n  a:\n    send: hi\n    gotoo: end\n");
    let (code, out) = run(dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("{file}:5:5: error: ")) && out.contains("gotoo"), "{out}");
}
