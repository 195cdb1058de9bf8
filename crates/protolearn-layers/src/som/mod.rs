//! Self-organizing maps (paper 002): the SOM layer, its neighbourhoods and temperature schedules,
//! the distortion loss, and three trainers (gradient "Keras SOM", batch SOM, online Kohonen SOM).
//!
//! ```
//! use protolearn_layers::som::{train, Neighbourhood, Schedule, SomConfig};
//! use protolearn_metrics::{Boundary, Grid, Lattice};
//! use tch::{nn, Device, Tensor};
//!
//! let x = Tensor::from_slice(&[0.0f32, 0.0, 0.2, 0.1, 5.0, 5.0, 5.1, 4.8, 9.0, 0.0, 8.8, 0.3]).view([6, 2]);
//! let grid = Grid::new(2, 2, Lattice::Rectangular, Boundary::Bounded).unwrap();
//! let vs = nn::VarStore::new(Device::Cpu);
//! let mut som = SomConfig { grid, init: Default::default(), neighbourhood: Neighbourhood::Gaussian }
//!     .build(&vs.root(), &x, 0)
//!     .unwrap();
//! let cfg = train::BatchSomConfig { iterations: 10, temperature: Schedule::paper_temperature(&grid) };
//! let history = train::train_batch(&mut som, &x, &cfg).unwrap();
//! assert_eq!(history.len(), 10);
//! ```

pub mod layer;
pub mod loss;
pub mod neighbourhood;
pub mod train;

pub use layer::{SomConfig, SomInit, SomLayer};
pub use loss::som_distortion;
pub use neighbourhood::{Decay, Neighbourhood, Schedule};
