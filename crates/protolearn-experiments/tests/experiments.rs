//! A tiny end-to-end run of every experiment that needs no downloaded data, through the same
//! code path as `bench-all --spec FILE`: a spec file of its own, the experiment's `run`, its report
//! section and the files it writes. Seconds each; the paper-scale runs live in bench-all.

use protolearn_data::DataDirs;
use protolearn_experiments::context::{Preset, RunContext};
use protolearn_experiments::experiments::{
    paper000_madelon, paper000_synthetic, paper001_ddcl, paper002_desom, paper003_kernel, paper003_lvq, paper003_reject,
    paper003_relevance, paper003_toy, paper004_sequences,
};
use std::collections::BTreeMap;
use std::path::Path;

/// A quick-preset CPU context in `dir` whose spec of `experiment` is `spec`.
fn context(dir: &Path, experiment: &str, spec: &str) -> RunContext {
    let file = dir.join(format!("{experiment}.toml"));
    std::fs::write(&file, spec).expect("spec file");
    RunContext {
        preset: Preset::Quick,
        device: tch::Device::Cpu,
        out: dir.join("out"),
        data_dirs: DataDirs::new(None),
        overrides: Vec::new(),
        spec_files: BTreeMap::from([(experiment.to_owned(), file)]),
        checkpoints: false,
        resume: false,
    }
}

/// Every path in `files` exists under `dir`.
fn assert_files(dir: &Path, files: &[&str]) {
    for f in files {
        assert!(dir.join(f).is_file(), "{} missing", dir.join(f).display());
    }
}

const COMPETITIVE_MODELS: &str = r#"
[[models]]
name = "VCL"
layer = { kind = "vcl", n_prototypes = 6, init = "data-samples" }
train = { epochs = 5, lambda = 0.01, topology = "edge-norm-squared", quantization = "l2-norm", keep_best = false, optimizer = { kind = "adam", lr = 0.008 } }

[[models]]
name = "DCL"
layer = { kind = "dcl", n_prototypes = 6, bias = true, dual_init = "glorot" }
train = { epochs = 5, lambda = 0.01, topology = "edge-norm-squared", quantization = "l2-norm", keep_best = false, optimizer = { kind = "adam", lr = 0.0008 } }
"#;

#[test]
fn paper000_synthetic_runs_end_to_end_on_a_tiny_spec() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = format!(
        "datasets = [\"moons\"]\nn_samples = 40\ndata_seed = 0\nspeedup_dataset = \"moons\"\n[quick]\nseeds = [0, 1]\n[full]\nseeds = [0]\n{COMPETITIVE_MODELS}"
    );
    let ctx = context(dir.path(), "paper000_synthetic", &spec);
    let section = paper000_synthetic::run(&ctx).expect("runs");
    assert!(section.body.contains("VCL") && section.body.contains("DCL"), "{}", section.body);
    let out = ctx.out.join("paper000_synthetic");
    assert_files(&out, &["spec.toml", "moons_VCL/history.csv", "moons_DCL/weights.safetensors"]);
    let history = std::fs::read_to_string(out.join("moons_VCL/history.csv")).expect("history");
    assert_eq!(history.lines().count(), 1 + 5 * 2, "header + 5 epochs x 2 seeds");
    // Same seed, same command, same numbers: a second run writes the same weights byte for byte
    // and the same history but for its timing column.
    let again = tempfile::tempdir().expect("tempdir");
    let ctx2 = context(again.path(), "paper000_synthetic", &spec);
    paper000_synthetic::run(&ctx2).expect("runs again");
    let out2 = ctx2.out.join("paper000_synthetic");
    let untimed = |text: &str| text.lines().map(|l| l.rsplit_once(',').map_or(l, |(kept, _)| kept).to_owned()).collect::<Vec<_>>();
    for model in ["moons_VCL", "moons_DCL"] {
        let read = |root: &std::path::Path, file: &str| std::fs::read(root.join(model).join(file)).expect("output");
        assert_eq!(read(&out, "weights.safetensors"), read(&out2, "weights.safetensors"), "{model}: weights differ between two runs");
        let (first, second) = (read(&out, "history.csv"), read(&out2, "history.csv"));
        assert!(String::from_utf8_lossy(&first).lines().next().is_some_and(|h| h.ends_with(",epoch_seconds")), "timing is the last column");
        assert_eq!(untimed(&String::from_utf8_lossy(&first)), untimed(&String::from_utf8_lossy(&second)), "{model}: history differs");
    }
}

#[test]
fn paper000_madelon_runs_end_to_end_on_a_tiny_spec() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sweeps = "features_sweep = { n_samples = 20, n_features = [30] }\nsamples_sweep = { n_features = 10, n_samples = [20] }";
    let spec = format!(
        "class_sep = 8.0\ninformative_fraction = 0.5\nprototypes_per_sample = 0.1\n[quick]\nseeds = [0]\n{sweeps}\n[full]\nseeds = [0]\n{sweeps}\n{COMPETITIVE_MODELS}"
    );
    let ctx = context(dir.path(), "paper000_madelon", &spec);
    let section = paper000_madelon::run(&ctx).expect("runs");
    assert!(section.body.contains("VCL"), "{}", section.body);
    assert_files(&ctx.out.join("paper000_madelon"), &["spec.toml"]);
}

#[test]
fn paper002_desom_runs_end_to_end_on_blob_images() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = r#"
datasets = ["blob-images"]
grid = { rows = 3, cols = 3, lattice = "rectangular" }
large_grid = { rows = 4, cols = 4, lattice = "rectangular" }
kmeans_k = 9
classes = 3
gamma = 1e-3
dense = { input_dim = 64, hidden = [16], latent_dim = 2 }
conv = { channels = 1, height = 8, width = 8, filters = [4, 4], latent_dim = 2 }
optimizer = { kind = "adam", lr = 1e-3 }
batch_size = 32
kmeans = { max_iter = 50, tol = 1e-4, post_n_init = 2 }
"#;
    let sizes = "seeds = [0]\niterations = 30\nsom_iterations = 30\nae_pretrain_iterations = 20\nkmeans_n_init = 1\nlog_every = 10";
    let all = r#"["kmeans", "som", "ae-kmeans", "ae-som", "desom", "desom-ae-kmeans", "desom-ae-som", "desom-line", "desom-large", "conv-desom"]"#;
    let spec = &format!("{spec}[quick]\n{sizes}\nmodels = {all}\n[full]\n{sizes}\nmodels = [\"desom\"]\n");
    let ctx = context(dir.path(), "paper002_desom", spec);
    let section = paper002_desom::run(&ctx).expect("runs");
    for label in ["k-means (k=9)", "SOM (3x3)", "DESOM (3x3)", "ConvDESOM (3x3)", "DESOM (4x4)", "DESOM (#classes x 1)"] {
        assert!(section.body.contains(label), "row {label} missing:\n{}", section.body);
    }
    let out = ctx.out.join("paper002_desom");
    assert_files(&out, &["spec.toml", "history.csv", "summary.json"]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary")).expect("json");
    let purity = summary["blob-images"]["desom"]["purity"][0].as_f64().expect("results keyed by dataset and model id");
    assert!((0.0..=1.0).contains(&purity), "purity {purity}");
    // A checkpointed run, then the same run resumed from its (finished) checkpoints: the DESOM
    // runs are not trained again and give the same numbers.
    let desom_purity = |ctx: &RunContext| -> f64 {
        let text = std::fs::read_to_string(ctx.out.join("paper002_desom/summary.json")).expect("summary");
        let summary: serde_json::Value = serde_json::from_str(&text).expect("json");
        summary["blob-images"]["desom"]["purity"][0].as_f64().expect("purity")
    };
    let checkpointed = RunContext { checkpoints: true, ..context(dir.path(), "paper002_desom", spec) };
    paper002_desom::run(&checkpointed).expect("checkpointed run");
    assert!(checkpointed.out.join("paper002_desom/checkpoints/blob-images/desom-seed0/state/run.toml").is_file());
    let first = desom_purity(&checkpointed);
    let resumed = RunContext { resume: true, ..checkpointed };
    paper002_desom::run(&resumed).expect("resumed run");
    assert_eq!(desom_purity(&resumed), first, "resumed DESOM equals its checkpointed run");
    let mismatched = spec.replace("input_dim = 64", "input_dim = 63");
    let ctx = context(dir.path(), "paper002_desom", &mismatched);
    let err = paper002_desom::run(&ctx).expect_err("inconsistent image shape");
    assert!(format!("{err:#}").contains("input_dim"), "{err:#}");
}

/// The shipped paper-001 spec at tiny sizes: blob images instead of the digits, two MADELON
/// dimensions, a few epochs, and the extension on blob images too.
fn tiny_paper001_spec() -> String {
    let shipped = paper001_ddcl::SPEC;
    let (head, rest) = shipped.split_once("[quick]").expect("a quick preset");
    let extension = &rest[rest.find("[extension]").expect("the extension")..];
    let extension = &extension[..extension.find("[extension.quick]").expect("the extension's presets")];
    let head = head
        .replace(r#"digits = "digits""#, r#"digits = "blob-images""#)
        .replace("dims = [10, 50, 200, 500, 1000, 5000]", "dims = [10, 200]")
        .replace("pretrain_iterations = 2000\n", "pretrain_iterations = 30\n")
        .replace("\nsteps = 300\n", "\nsteps = 20\n")
        .replace("lyapunov_steps = 300", "lyapunov_steps = 10");
    let extension = extension
        .replace(r#"datasets = ["mnist", "fashion-mnist"]"#, r#"datasets = ["blob-images"]"#)
        .replace("k = 10", "k = 3")
        .replace("input_dim = 784", "input_dim = 64")
        .replace("latent_dim = 10", "latent_dim = 2")
        .replace("\nbatch_size = 256", "\nbatch_size = 32")
        .replace("dcl_size = 256", "dcl_size = 40")
        .replace("final_kmeans_n_init = 10", "final_kmeans_n_init = 2")
        .replace(
            r#"desom_grid = { rows = 8, cols = 8, lattice = "rectangular" }"#,
            r#"desom_grid = { rows = 2, cols = 2, lattice = "rectangular" }"#,
        )
        .replace("steps = 300", "steps = 20");
    let preset = "seeds = [0, 1]\nidentity_seeds = [0]\nidentity_epochs = 30\ndigits_epochs = 10\nmadelon_epochs = 3\nextension = true\n";
    let models =
        r#"["ae-kmeans", "desom-ae-kmeans", "deepcluster", "ablation-kmeans", "ablation-detached", "ols-only", "ddcl-batch", "ddcl"]"#;
    let sizes = "seeds = [0, 1]\nhidden = [16]\npretrain_iterations = 30\nepochs = 2\nlogs_per_epoch = 3";
    format!(
        "{head}[quick]\n{preset}\n[full]\n{preset}\n{extension}[extension.quick]\n{sizes}\nmodels = {models}\n[extension.full]\n{sizes}\nmodels = [\"ddcl\"]\n"
    )
}

#[test]
fn paper001_ddcl_runs_every_block_end_to_end_on_tiny_sizes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = tiny_paper001_spec();
    let ctx = context(dir.path(), "paper001_ddcl", &spec);
    let section = paper001_ddcl::run(&ctx).expect("runs");
    for label in [
        "### The claims",
        "Block 1: the identity",
        "Block 2: the negative-feedback loop",
        "Block 3: temperature",
        "Block 4: high dimension",
        "Block 5: frozen backbone",
        "not run: no offline source",
        "Block 6: joint backbone",
        "#### Streaming",
        "Extension: MNIST and Fashion-MNIST",
        "DDCL (reference-set DCL)",
        "**0 violations in",
    ] {
        assert!(section.body.contains(label), "{label} missing:\n{}", section.body);
    }
    let out = ctx.out.join("paper001_ddcl");
    assert_files(
        &out,
        &[
            "spec.toml",
            "summary.json",
            "history.csv",
            "ddcl_feedback.png",
            "ddcl_temperature.png",
            "ddcl_madelon.png",
            "ddcl_frozen_lyapunov.png",
            "ddcl_trivial_solution.png",
            "extension/summary.json",
            "extension/history_blob-images.csv",
        ],
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary")).expect("json");
    for row in [
        "joint/ddcl",
        "joint/ols-only-std",
        "joint/deepcluster",
        "temperature/anneal",
        "frozen/lq",
        "streaming/minibatch-kmeans",
        "madelon/ddcl/d=200",
    ] {
        let acc = summary[row]["acc"].as_array().unwrap_or_else(|| panic!("{row}: one ACC per seed"));
        assert_eq!(acc.len(), 2, "{row}");
        assert!(acc.iter().all(|a| (0.0..=1.0).contains(&a.as_f64().expect("a number"))), "{row}");
    }
    // Block 1: one full-batch step per epoch, every step checked, no violation.
    assert_eq!(summary["identity/moons"]["identity_checked"][0].as_f64(), Some(30.0));
    assert_eq!(summary["identity/moons"]["identity_violations"][0].as_f64(), Some(0.0));
    let history = std::fs::read_to_string(out.join("history.csv")).expect("history");
    assert_eq!(history.lines().filter(|l| l.starts_with("digits,ddcl-std,1,")).count(), 2, "one record every 5 epochs");
    let bad = spec.replace("k = 4", "k = 1");
    let err = paper001_ddcl::run(&context(dir.path(), "paper001_ddcl", &bad)).expect_err("k = 1");
    assert!(format!("{err:#}").contains("n_prototypes"), "{err:#}");
}

#[test]
fn paper003_lvq_runs_end_to_end_on_blob_images() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shipped = paper003_lvq::SPEC;
    let spec = shipped[..shipped.find("[quick]").expect("a quick preset")]
        .replace(r#"datasets = ["mnist", "fashion-mnist"]"#, r#"datasets = ["blob-images"]"#)
        .replace("classes = 10\n", "classes = 3\n")
        .replace("classes = 10,", "classes = 3,")
        .replace("height = 28, width = 28, filters = [32, 64], latent_dim = 64", "height = 8, width = 8, filters = [4, 4], latent_dim = 6")
        .replace("dim = 64", "dim = 6")
        .replace("batch_size = 128", "batch_size = 30");
    let spec = format!("{spec}[quick]\nseeds = [0, 1]\nepochs = 10\nattack_samples = 20\n[full]\nseeds = [0]\nepochs = 1\n");
    let ctx = context(dir.path(), "paper003_lvq", &spec);
    let section = paper003_lvq::run(&ctx).expect("runs");
    for head in ["softmax", "RSLVQ", "GLVQ", "GMLVQ", "CELVQ", "Tiny ImageNet"] {
        assert!(section.body.contains(head), "{head} missing:\n{}", section.body);
    }
    for part in ["Reject curves", "relative similarity", "softmax confidence", "Robustness", "| pgd |", "PyTorch not run"] {
        assert!(section.body.contains(part), "{part} missing:\n{}", section.body);
    }
    let out = ctx.out.join("paper003_lvq");
    assert_files(
        &out,
        &["spec.toml", "history.csv", "reject.csv", "robustness.csv", "summary.json", "reject_curves.png", "robustness.svg"],
    );
    let robust = std::fs::read_to_string(out.join("robustness.csv")).expect("robustness.csv");
    // 5 heads x 2 seeds x 2 attacks x 5 radii, and a header.
    assert_eq!(robust.lines().count(), 1 + 5 * 2 * 2 * 5, "{robust}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary")).expect("json");
    let summary = &summary["models"];
    let accuracy = summary["blob-images"]["RSLVQ"]["accuracy"].as_array().expect("one per seed");
    assert_eq!(accuracy.len(), 2);
    // Every head learns: well above chance (1/3) after 10 short epochs; the accuracy each head
    // reaches on separable data is tested in protolearn-train's tests/lvq.rs.
    for head in ["softmax", "RSLVQ", "GLVQ", "GMLVQ", "CELVQ"] {
        let acc = summary["blob-images"][head]["accuracy"][0].as_f64().expect("accuracy");
        assert!(acc > 0.5, "{head}: {acc}");
    }
    // The GMLVQ head has 6 x 6 Omega parameters more than GLVQ.
    let params = |h: &str| summary["blob-images"][h]["parameters"][0].as_f64().expect("parameters");
    assert_eq!(params("GMLVQ") - params("GLVQ"), 36.0);
}

#[test]
fn paper003_kernel_compares_convolutions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shipped = paper003_kernel::SPEC;
    let spec = shipped[..shipped.find("[quick]").expect("a quick preset")]
        .replace(r#"datasets = ["mnist", "fashion-mnist"]"#, r#"datasets = ["blob-images"]"#)
        .replace("classes = 10\n", "classes = 3\n")
        .replace("classes = 10,", "classes = 3,")
        .replace("height = 28, width = 28, filters = [32, 64], latent_dim = 64", "height = 8, width = 8, filters = [4, 4], latent_dim = 6")
        .replace("batch_size = 128", "batch_size = 30");
    let spec = format!("{spec}[quick]\nseeds = [0]\nepochs = 8\nattack_samples = 30\n[full]\nseeds = [0]\nepochs = 1\n");
    let ctx = context(dir.path(), "paper003_kernel", &spec);
    let section = paper003_kernel::run(&ctx).expect("runs");
    for row in ["| plain conv |", "| kernel-prototype soft |", "| kernel-prototype hard |", "kernel-prototype hard + GLVQ", "| fgsm |"] {
        assert!(section.body.contains(row), "{row} missing:\n{}", section.body);
    }
    assert!(section.body.contains("robustness or gradient masking?"), "{}", section.body);
    // The masking checks: 4 models x 2 radii x 4 checks beside FGSM / PGD at 5 radii. The plain
    // CNN's transfer attack replays its own PGD examples: the same accuracy as its PGD row.
    let robust = std::fs::read_to_string(ctx.out.join("paper003_kernel/robustness.csv")).expect("robustness.csv");
    assert_eq!(robust.lines().count(), 1 + 4 * 2 * 5 + 4 * 2 * 4, "{robust}");
    let accuracy = |attack: &str| {
        let row = robust.lines().find(|l| l.contains(",plain conv,") && l.contains(&format!(",{attack},0.2,"))).expect("a row");
        row.rsplit(',').next().and_then(|a| a.parse::<f64>().ok()).expect("an accuracy")
    };
    assert_eq!(accuracy("transfer"), accuracy("pgd"), "{robust}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ctx.out.join("paper003_kernel/summary.json")).expect("summary")).expect("json");
    let params = |m: &str| summary["models"]["blob-images"][m]["parameters"][0].as_f64().expect("parameters");
    // A kernel-prototype layer has kernels but no biases: 4 + 4 fewer parameters than plain.
    assert_eq!(params("plain conv") - params("kernel-prototype soft"), 8.0);
    for m in ["plain conv", "kernel-prototype soft", "kernel-prototype hard"] {
        let acc = summary["models"]["blob-images"][m]["accuracy"][0].as_f64().expect("accuracy");
        assert!(acc > 0.5, "{m}: {acc} (chance is 1/3)");
    }
}

#[test]
fn paper003_relevance_runs_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shipped = paper003_relevance::SPEC;
    let spec = shipped[..shipped.find("[quick]").expect("a quick preset")].replace("n_samples = 2000", "n_samples = 200");
    let spec = format!("{spec}[quick]\nseeds = [0]\nepochs = 5\n[full]\nseeds = [0]\nepochs = 1\n");
    let ctx = context(dir.path(), "paper003_relevance", &spec);
    let section = paper003_relevance::run(&ctx).expect("runs");
    for head in ["GMLVQ", "GRLVQ", "local GMLVQ", "ranks of the informative features"] {
        assert!(section.body.contains(head), "{head} missing:\n{}", section.body);
    }
    assert_files(&ctx.out.join("paper003_relevance"), &["spec.toml", "relevance_matrices.png", "relevance_matrices.svg"]);
    let euclidean = spec.replacen(
        r#"dissimilarity = { kind = "omega", dim = 40, trace_normalize = true }"#,
        r#"dissimilarity = { kind = "squared-euclidean" }"#,
        1,
    );
    let err = paper003_relevance::run(&context(dir.path(), "paper003_relevance", &euclidean)).expect_err("no relevance matrix");
    assert!(format!("{err:#}").contains("no relevance matrix"), "{err:#}");
}

#[test]
fn paper003_reject_runs_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shipped = paper003_reject::SPEC;
    let spec = shipped[..shipped.find("[quick]").expect("a quick preset")].replace("n_samples = 2000", "n_samples = 200");
    let spec = format!("{spec}[quick]\nseeds = [0, 1]\nepochs = 5\n[full]\nseeds = [0]\nepochs = 1\n");
    let ctx = context(dir.path(), "paper003_reject", &spec);
    let section = paper003_reject::run(&ctx).expect("runs");
    for rule in ["n-balls", "relative similarity", "softmax confidence", "| 0.50 |", "trained θ", "post-hoc θ"] {
        assert!(section.body.contains(rule), "{rule} missing:\n{}", section.body);
    }
    assert_files(&ctx.out.join("paper003_reject"), &["spec.toml", "reject_curves.png", "reject_curves.svg"]);
}

#[test]
fn paper003_toy_draws_regions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = paper003_toy::SPEC.replace("resolution = 80", "resolution = 12").replace("epochs = 40", "epochs = 3");
    let ctx = context(dir.path(), "paper003_toy", &spec);
    let section = paper003_toy::run(&ctx).expect("runs");
    for row in ["| moons | GLVQ |", "| blobs | RSLVQ |", "grid rejected"] {
        assert!(section.body.contains(row), "{row} missing:\n{}", section.body);
    }
    assert_files(&ctx.out.join("paper003_toy"), &["spec.toml", "regions.png", "regions.svg"]);
}

#[test]
fn gpu_check_writes_one_json_line_per_measurement() {
    let dirs = DataDirs::new(None);
    if let Err(e) = dirs.find(protolearn_data::IdxDataset::FashionMnist).and(dirs.find(protolearn_data::IdxDataset::Mnist)) {
        assert!(!protolearn_data::locate::data_required(), "MNIST and Fashion-MNIST are required but not found: {e}");
        eprintln!("skipping: MNIST / Fashion-MNIST not found (set PROTOLEARN_DATA)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("check.jsonl");
    std::fs::write(&out, "stale line\n").expect("stale file");
    let sizes =
        protolearn_experiments::gpu_check::CheckSizes { desom_iterations: 20, desom_seeds: 2, kmeans_samples: 1000, competitive_epochs: 5 };
    let tf32 = protolearn_experiments::gpu_check::Tf32Runner { executable: env!("CARGO_BIN_EXE_protolearn").into() };
    let measured = protolearn_experiments::gpu_check::run(tch::Device::Cpu, &dirs, sizes, &out, false, Some(&tf32)).expect("check runs");
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&out).expect("jsonl").lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let names: Vec<&str> = lines.iter().map(|l| l["measurement"].as_str().expect("name")).collect();
    let expected = [
        "cuda",
        "desom",
        "desom-bf16",
        "desom-tf32",
        "desom-pytorch",
        "desom-pytorch-bf16",
        "desom-pytorch-tf32",
        "desom-seeds",
        "kmeans",
        "competitive-vcl",
        "competitive-dcl",
    ];
    assert_eq!(names, expected, "the stale line is gone");
    assert_eq!(measured.len(), 11);
    for line in &lines[1..4] {
        let purity = line["purity"].as_f64().expect("DESOM purity");
        assert!((0.1..=1.0).contains(&purity), "purity {purity}: {line}");
    }
    let line = |name: &str| lines.iter().find(|l| l["measurement"] == name).expect("a line of that name");
    assert!(line("desom-bf16")["note"].as_str().expect("note").contains("bf16"), "{}", line("desom-bf16"));
    assert!(line("desom-tf32")["note"].as_str().expect("note").contains("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1"), "{}", line("desom-tf32"));
    let seeds_purity = line("desom-seeds")["purity"].as_f64().expect("mean purity of the seeds");
    assert!((0.1..=1.0).contains(&seeds_purity), "purity {seeds_purity}");
    assert!(line("desom-seeds")["note"].as_str().expect("note").contains("2 seeds"), "{}", line("desom-seeds"));
    assert!(line("kmeans")["inertia"].as_f64().expect("inertia") > 0.0);
    // The PyTorch twins run where python3 (with .libtorch/site on its path) imports torch, as
    // under `cargo xtask test`; elsewhere their lines say why they did not.
    for torch in ["desom-pytorch", "desom-pytorch-bf16", "desom-pytorch-tf32"].map(line) {
        let ran = torch["seconds"].as_f64().expect("seconds") > 0.0 && torch["purity"].as_f64().is_some_and(|p| (0.0..=1.0).contains(&p));
        assert!(ran || torch["note"].as_str().expect("note").starts_with("not run"), "{torch}");
    }
    let ours = lines.iter().skip(1).filter(|l| !l["measurement"].as_str().is_some_and(|m| m.starts_with("desom-pytorch")));
    assert!(ours.clone().count() == 7 && ours.into_iter().all(|l| l["seconds"].as_f64().expect("seconds") > 0.0));
}

/// The sequence models (LSTM and temporal-convolution autoencoders, whose CPU kernels come from
/// oneDNN) on a tiny offline Synthetic Control: every report row, and the same numbers bit for
/// bit when the same spec runs again on this machine (issue 24: across machines see
/// `protolearn compare` and docs/results/quick-sequences-avx2).
#[test]
fn paper004_sequences_runs_twice_with_identical_numbers() {
    let spec = r#"
grid = { rows = 2, cols = 2, lattice = "rectangular" }
gamma = 1e-3
optimizer = { kind = "adam", lr = 1e-3 }
batch_size = 16
lstm = { hidden = [8], latent_dim = 3, conditional = true }
temporal = { filters = [4, 4], kernel_size = 3, pool = 4, latent_dim = 3 }
synthetic_control = { train_per_class = 6, test_per_class = 5, length = 24 }
kmeans = { n_init = 2, max_iter = 50, tol = 1e-4 }
[quick]
seeds = [0, 1, 2]
datasets = ["synthetic-control"]
iterations = 30
pretrain_iterations = 20
som_iterations = 5
log_every = 10
[full]
seeds = [0]
datasets = ["synthetic-control"]
iterations = 30
pretrain_iterations = 20
som_iterations = 5
log_every = 10
"#;
    let run = || {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = context(dir.path(), "paper004_sequences", spec);
        let section = paper004_sequences::run(&ctx).expect("runs");
        let read = |file: &str| std::fs::read_to_string(ctx.out.join("paper004_sequences").join(file)).expect("output");
        (section.body, read("summary.json"), read("history.csv"), dir)
    };
    let (body, summary, history, _dir) = run();
    for label in ["k-means (raw)", "batch SOM (raw)", "LSTM-AE + SOM", "TCN-AE + SOM", "LSTM-DESOM", "TCN-DESOM", "Welch p"] {
        assert!(body.contains(label), "{label} missing:\n{body}");
    }
    let (_, summary2, history2, _dir2) = run();
    let untimed = |text: &str| -> serde_json::Value {
        let mut value: serde_json::Value = serde_json::from_str(text).expect("json");
        for models in value.as_object_mut().expect("datasets").values_mut() {
            for metrics in models.as_object_mut().expect("models").values_mut() {
                metrics.as_object_mut().expect("metrics").remove("seconds");
            }
        }
        value
    };
    assert_eq!(untimed(&summary), untimed(&summary2), "the second run's quality numbers differ");
    assert_eq!(history, history2, "the second run's DESOM histories differ");
    assert_eq!(untimed(&summary)["synthetic-control"]["lstm-desom"]["purity"].as_array().map(Vec::len), Some(3), "one value per seed");
}
