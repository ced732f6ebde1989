//! `kill -9` at random points of a 2,000-resource apply, 24 times: after each kill the state is
//! valid and holds every change that finished; the next apply converges with no duplicate and
//! nothing lost.
//!
//! Every run changes every resource (a new `gen` in each input), so each kill interrupts real
//! work. "Finished" means recorded: terraform_data gets a fresh random id on every create and
//! keeps it on update, so an instance created twice would change its id. Every id seen in state
//! after any kill must still be there at the end.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const RESOURCES: usize = 2000;
const KILLS: usize = 24;

fn infra(dir: &Path) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("infra"));
    // Short leases, so a killed holder's lock expires quickly; the next run waits and takes over.
    command.current_dir(dir).env("INFRA_LOCK_TTL", "0.6").stdin(Stdio::null());
    command
}

/// Address → (id, input) of every instance in state.
fn ids(dir: &Path) -> BTreeMap<String, (String, String)> {
    let output = infra(dir).args(["state", "pull"]).output().expect("state pull runs");
    assert!(output.status.success(), "the state is readable after a kill: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    if text.trim().is_empty() {
        return BTreeMap::new();
    }
    let state: serde_json::Value = serde_json::from_str(&text).expect("the state is valid JSON after a kill");
    state["resources"]
        .as_object()
        .map(|resources| {
            resources
                .iter()
                .map(|(address, r)| {
                    let id = r["attributes"]["id"].as_str().unwrap_or_default().to_string();
                    (address.clone(), (id, r["attributes"]["input"].to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A small deterministic generator: the kill points vary over the run but repeat across runs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[test]
fn kill_nine_at_random_points_loses_no_finished_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut main = String::from("variable \"gen\" {\n  default = 0\n}\n");
    for i in 0..RESOURCES {
        let input = if i % 10 == 9 {
            format!("\"${{var.gen}}-${{terraform_data.r{}.id}}\"", i - 1)
        } else {
            format!("\"${{var.gen}}-{i}\"")
        };
        main.push_str(&format!("resource \"terraform_data\" \"r{i}\" {{\n  input = {input}\n}}\n"));
    }
    std::fs::write(dir.path().join("main.tf"), main).expect("write");

    // How long a full apply takes here, to spread the kills over it.
    let probe = tempfile::tempdir().expect("temp dir");
    std::fs::copy(dir.path().join("main.tf"), probe.path().join("main.tf")).expect("copy");
    let started = std::time::Instant::now();
    assert!(
        infra(probe.path())
            .args(["apply", "-auto-approve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("runs")
            .success()
    );
    let full = started.elapsed().as_millis().max(50) as u64;
    let started = std::time::Instant::now();
    assert!(
        infra(probe.path())
            .args(["plan"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("runs")
            .success()
    );
    let planning = started.elapsed().as_millis() as u64;

    let mut random = Lcg(0x1f2e3d4c);
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut partial = 0;
    for generation in 1..=KILLS {
        // Let the killed run's lease expire first, so the kill falls in this run's work.
        std::thread::sleep(Duration::from_millis(700));
        let mut child = infra(dir.path())
            .args(["apply", "-auto-approve", "-lock-timeout=5s", "-var", &format!("gen={generation}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("apply starts");
        // Somewhere between the end of planning and a little past a whole apply.
        let apply = full.saturating_sub(planning).max(20);
        std::thread::sleep(Duration::from_millis(planning * 8 / 10 + random.next(apply * 14 / 10)));
        let _ = child.kill();
        let _ = child.wait();
        let now = ids(dir.path());
        for (address, id) in &seen {
            assert_eq!(
                now.get(address).map(|(id, _)| id),
                Some(id),
                "`{address}` finished earlier and must keep its id"
            );
        }
        let done = now.values().filter(|(_, input)| input.starts_with(&format!("\"{generation}-"))).count();
        if done > 0 && done < RESOURCES {
            partial += 1;
        }
        seen.extend(now.into_iter().map(|(address, (id, _))| (address, id)));
    }
    eprintln!("{partial} of {KILLS} kills landed in the middle of an apply that had made progress");
    std::thread::sleep(Duration::from_millis(700));
    let last = infra(dir.path()).args(["apply", "-auto-approve", "-lock-timeout=5s"]).output().expect("final apply");
    assert!(last.status.success(), "the final apply converges: {}", String::from_utf8_lossy(&last.stderr));
    let end = ids(dir.path());
    assert_eq!(end.len(), RESOURCES, "every resource exists exactly once");
    for (address, id) in &seen {
        assert_eq!(end.get(address).map(|(id, _)| id), Some(id), "`{address}` was not created twice");
    }
    let plan = infra(dir.path()).args(["plan", "-detailed-exitcode", "-lock-timeout=5s"]).output().expect("plan");
    assert_eq!(plan.status.code(), Some(0), "nothing left to do: {}", String::from_utf8_lossy(&plan.stdout));
    assert!(partial >= 1, "kills landed mid-apply ({partial} did)");
}
