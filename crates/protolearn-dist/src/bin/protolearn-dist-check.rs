//! `protolearn-dist-check`: checks a data-parallel launch before a long run. Started by the
//! launcher on every rank (`torchrun --nproc-per-node 2 --no-python protolearn-dist-check`), it
//! joins the process group, then all-reduces, broadcasts and meets at a barrier `--rounds` times,
//! verifying every result, and prints the time each rank took.
//!
//! Options: `--rounds N` (default 10), `--elements N` floats per tensor (default 1,000,000).

use protolearn_dist::{Launch, ProcessGroup};
use protolearn_layers::collective::Collective;
use std::time::Instant;
use tch::{Kind, Tensor};

/// The numeric value of option `name` in `args`, or `default`.
fn option(args: &[String], name: &str, default: i64) -> Result<i64, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => {
            let value = args.get(i + 1).ok_or(format!("{name} needs a value"))?;
            value.parse().ok().filter(|v| *v > 0).ok_or(format!("{name} {value}: expected a positive integer"))
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(unknown) = args.iter().find(|a| a.starts_with("--") && !["--rounds", "--elements"].contains(&a.as_str())) {
        return Err(format!("unknown option {unknown} (options: --rounds N, --elements N)").into());
    }
    let rounds = option(&args, "--rounds", 10)?;
    let elements = option(&args, "--elements", 1_000_000)?;
    let launch = Launch::from_env()?.ok_or(
        "no launcher environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT): start it with \
         `torchrun --nproc-per-node N --no-python protolearn-dist-check`",
    )?;
    let start = Instant::now();
    let group = ProcessGroup::join(&launch)?;
    let (rank, world) = (group.rank(), group.world_size());
    println!("rank {rank} of {world} joined in {:.2} s", start.elapsed().as_secs_f64());
    let expected_sum = (world * (world + 1) / 2) as f64;
    let start = Instant::now();
    for round in 0..rounds {
        let t = Tensor::full([elements], rank as f64 + 1.0, (Kind::Float, tch::Device::Cpu));
        group.all_reduce_sum(&t)?;
        let (lo, hi) = (t.min().double_value(&[]), t.max().double_value(&[]));
        if lo != expected_sum || hi != expected_sum {
            return Err(format!("round {round}: all-reduce gave values in [{lo}, {hi}], expected {expected_sum} everywhere").into());
        }
        let b = Tensor::full([elements], if rank == 0 { round as f64 } else { -1.0 }, (Kind::Float, tch::Device::Cpu));
        group.broadcast(&b, 0)?;
        if b.min().double_value(&[]) != round as f64 || b.max().double_value(&[]) != round as f64 {
            return Err(format!("round {round}: broadcast from rank 0 did not arrive intact").into());
        }
        group.barrier()?;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "rank {rank} of {world}: {rounds} rounds of all-reduce + broadcast + barrier on {elements} floats in {seconds:.3} s \
         ({:.1} ms per all-reduce + broadcast); every result verified",
        1e3 * seconds / rounds as f64
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("protolearn-dist-check: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
