//! Self-organizing maps (paper 002): the SOM layer, its neighbourhoods and temperature schedules,
//! the distortion loss, and the two update rules without autograd (batch SOM, online Kohonen
//! SOM). Training runs on protolearn-train's one trainer (`protolearn_train::som::fit_som`, which
//! also has the gradient "Keras" SOM).
//!
//! ```
//! use protolearn_layers::som::{BatchSom, Neighbourhood, Schedule, SomConfig};
//! use protolearn_layers::UpdateRule;
//! use protolearn_metrics::{Boundary, Grid, Lattice};
//! use tch::{nn, Device, Tensor};
//!
//! let x = Tensor::from_slice(&[0.0f32, 0.0, 0.2, 0.1, 5.0, 5.0, 5.1, 4.8, 9.0, 0.0, 8.8, 0.3]).view([6, 2]);
//! let grid = Grid::new(2, 2, Lattice::Rectangular, Boundary::Bounded).unwrap();
//! let vs = nn::VarStore::new(Device::Cpu);
//! let som = SomConfig { grid, init: Default::default(), neighbourhood: Neighbourhood::Gaussian, map_distance: Default::default() }
//!     .build(&vs.root(), &x, 0)
//!     .unwrap();
//! // The last of 10 batch-SOM steps (T = T_min): each prototype moves to the mean of its samples.
//! BatchSom { temperature: Schedule::paper_temperature(&grid) }.update(&som, &x, None, 10, 10).unwrap();
//! assert_eq!(som.bmus(&x).unwrap().size(), vec![6]);
//! ```

pub mod layer;
pub mod loss;
pub mod neighbourhood;
pub mod rules;

pub use layer::{MapDistance, SomConfig, SomInit, SomLayer};
pub use loss::som_distortion;
pub use neighbourhood::{Decay, Neighbourhood, Schedule};
pub use rules::{BatchSom, OnlineSom};
