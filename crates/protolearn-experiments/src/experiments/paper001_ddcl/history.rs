//! One row of a DDCL history CSV: a record of one model and seed with every logged quantity.

use protolearn_train::ddcl::DdclRecord;
use serde::Serialize;

/// A DDCL-family record of one model and seed, flattened for CSV.
#[derive(Debug, Serialize)]
pub struct HistoryRow<'a> {
    dataset: &'a str,
    model: &'a str,
    seed: u64,
    step: usize,
    epoch: f64,
    tau: f64,
    loss: f64,
    l_q: f64,
    l_ols: f64,
    v: f64,
    l_r: Option<f64>,
    identity_violations: u64,
    identity_checked: u64,
    identity_max_error: f64,
    separation: f64,
    min_separation: f64,
    concentration: f64,
    train_entropy: f64,
    force: Option<f64>,
    force_fixed_q: f64,
    feature_variance: f64,
    live: f64,
    acc: Option<f64>,
    nmi: Option<f64>,
    ari: Option<f64>,
    winners: Option<f64>,
    entropy: Option<f64>,
    running_acc: Option<f64>,
    seconds: f64,
}

impl<'a> HistoryRow<'a> {
    /// The row of record `r` of `model` on `dataset` with `seed`.
    pub fn new(dataset: &'a str, model: &'a str, seed: u64, r: &DdclRecord) -> Self {
        HistoryRow {
            dataset,
            model,
            seed,
            step: r.step,
            epoch: r.epoch,
            tau: r.tau,
            loss: r.loss,
            l_q: r.quantization,
            l_ols: r.ols,
            v: r.variance,
            l_r: r.reconstruction,
            identity_violations: r.identity_violations,
            identity_checked: r.identity_checked,
            identity_max_error: r.identity_max_error,
            separation: r.separation,
            min_separation: r.min_separation,
            concentration: r.concentration,
            train_entropy: r.train_entropy,
            force: r.force,
            force_fixed_q: r.force_fixed_q,
            feature_variance: r.feature_variance,
            live: r.live,
            acc: r.acc,
            nmi: r.nmi,
            ari: r.ari,
            winners: r.winners,
            entropy: r.entropy,
            running_acc: r.running_acc,
            seconds: r.seconds,
        }
    }
}
