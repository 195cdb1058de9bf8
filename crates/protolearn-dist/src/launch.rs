//! The launcher environment of a data-parallel run: the variables `torchrun`, Slurm (through
//! `srun` wrappers) and Kubernetes' PyTorchJob set for every process.

use crate::error::{Error, Result};
use std::time::Duration;

/// How long the rendezvous and each collective may wait for a peer, unless
/// `PROTOLEARN_DIST_TIMEOUT` says otherwise (seconds): five minutes, long enough for every rank
/// to load its data, short enough that a peer that never starts is an error, not a hang.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Where this process stands in a data-parallel run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The rendezvous host (`MASTER_ADDR`).
    pub master_addr: String,
    /// The rendezvous port (`MASTER_PORT`).
    pub master_port: u16,
    /// This process's rank (`RANK`), `0..world_size`.
    pub rank: usize,
    /// The number of processes (`WORLD_SIZE`).
    pub world_size: usize,
    /// The rank on this machine (`LOCAL_RANK`; the rank when unset), which picks its GPU.
    pub local_rank: usize,
    /// Whether torchrun's agent hosts the store (`TORCHELASTIC_USE_AGENT_STORE=True`): then rank 0
    /// connects to it instead of hosting one.
    pub agent_store: bool,
    /// Bound on the rendezvous and on every collective (`PROTOLEARN_DIST_TIMEOUT`, seconds).
    pub timeout: Duration,
}

impl Launch {
    /// The launch of this process from its environment; `None` when neither `RANK` nor
    /// `WORLD_SIZE` is set (a single process).
    pub fn from_env() -> Result<Option<Launch>> {
        Launch::from_vars(|var| std::env::var(var).ok())
    }

    /// The launch from the variables `var` returns (for tests and for embedding).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Launch>> {
        let (rank, world) = (var("RANK"), var("WORLD_SIZE"));
        let set = match (&rank, &world) {
            (None, None) => return Ok(None),
            (Some(_), _) => "RANK",
            (None, Some(_)) => "WORLD_SIZE",
        };
        let required = |name: &'static str, value: Option<String>| value.ok_or(Error::MissingVar { var: name, set });
        let master_addr = required("MASTER_ADDR", var("MASTER_ADDR"))?;
        if master_addr.trim().is_empty() {
            return Err(Error::BadVar { var: "MASTER_ADDR", expected: "a host name or address".into(), found: master_addr });
        }
        let master_port = parse("MASTER_PORT", &required("MASTER_PORT", var("MASTER_PORT"))?, "a port number in 1..=65535")?;
        if master_port == 0 {
            return Err(Error::BadVar { var: "MASTER_PORT", expected: "a port number in 1..=65535".into(), found: "0".into() });
        }
        let world_size: usize = parse("WORLD_SIZE", &required("WORLD_SIZE", world)?, "a positive process count")?;
        if world_size == 0 {
            return Err(Error::BadVar { var: "WORLD_SIZE", expected: "a positive process count".into(), found: "0".into() });
        }
        let rank: usize = parse("RANK", &required("RANK", rank)?, "a rank in 0..WORLD_SIZE")?;
        if rank >= world_size {
            return Err(Error::BadVar {
                var: "RANK",
                expected: format!("a rank in 0..{world_size} (WORLD_SIZE={world_size})"),
                found: rank.to_string(),
            });
        }
        let local_rank = match var("LOCAL_RANK") {
            Some(v) => parse("LOCAL_RANK", &v, "a non-negative rank on this machine")?,
            None => rank,
        };
        let timeout = match var("PROTOLEARN_DIST_TIMEOUT") {
            Some(v) => {
                let seconds: f64 = parse("PROTOLEARN_DIST_TIMEOUT", &v, "a positive number of seconds")?;
                if !(seconds.is_finite() && seconds > 0.0) {
                    return Err(Error::BadVar {
                        var: "PROTOLEARN_DIST_TIMEOUT",
                        expected: "a positive number of seconds".into(),
                        found: v,
                    });
                }
                Duration::from_secs_f64(seconds)
            }
            None => DEFAULT_TIMEOUT,
        };
        let agent_store = var("TORCHELASTIC_USE_AGENT_STORE").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Ok(Some(Launch { master_addr, master_port, rank, world_size, local_rank, agent_store, timeout }))
    }

    /// Whether this process hosts the rendezvous store (rank 0, unless torchrun's agent does).
    pub fn hosts_store(&self) -> bool {
        self.rank == 0 && !self.agent_store
    }
}

/// Parses `value` of variable `var`.
fn parse<T: std::str::FromStr>(var: &'static str, value: &str, expected: &str) -> Result<T> {
    value.trim().parse().map_err(|_| Error::BadVar { var, expected: expected.into(), found: value.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn launch(vars: &[(&str, &str)]) -> Result<Option<Launch>> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Launch::from_vars(|k| map.get(k).cloned())
    }

    const TORCHRUN: [(&str, &str); 5] =
        [("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", "29500"), ("RANK", "1"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "1")];

    #[test]
    fn no_launcher_variables_mean_one_process() {
        assert_eq!(launch(&[("MASTER_ADDR", "127.0.0.1")]).unwrap(), None);
    }

    #[test]
    fn the_torchrun_environment_is_read() {
        let l = launch(&TORCHRUN).unwrap().unwrap();
        assert_eq!((l.rank, l.world_size, l.local_rank, l.master_port), (1, 2, 1, 29500));
        assert!(!l.hosts_store());
        assert_eq!(l.timeout, DEFAULT_TIMEOUT);
        let mut agent = TORCHRUN.to_vec();
        agent[2] = ("RANK", "0");
        agent.push(("TORCHELASTIC_USE_AGENT_STORE", "True"));
        assert!(!launch(&agent).unwrap().unwrap().hosts_store());
    }

    #[test]
    fn missing_and_inconsistent_variables_are_named() {
        let err = launch(&TORCHRUN[1..]).unwrap_err().to_string();
        assert!(err.starts_with("MASTER_ADDR is not set, but RANK is"), "{err}");
        let mut wrong = TORCHRUN.to_vec();
        wrong[3] = ("WORLD_SIZE", "1");
        let err = launch(&wrong).unwrap_err().to_string();
        assert_eq!(err, "RANK=1: expected a rank in 0..1 (WORLD_SIZE=1)");
        wrong[3] = ("WORLD_SIZE", "two");
        assert_eq!(launch(&wrong).unwrap_err().to_string(), "WORLD_SIZE=two: expected a positive process count");
        let mut timeout = TORCHRUN.to_vec();
        timeout.push(("PROTOLEARN_DIST_TIMEOUT", "-1"));
        assert!(launch(&timeout).unwrap_err().to_string().starts_with("PROTOLEARN_DIST_TIMEOUT=-1"));
    }
}
