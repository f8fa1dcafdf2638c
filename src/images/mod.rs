//! Images carried over SSH for sites without a registry (`images: push`):
//! `plan` decides which layers a host lacks and writes the host's scripts
//! (pure), `archive` lays out the docker-load archive of those layers,
//! `run` reads the images from the operator's Docker engine or an OCI
//! layout and sends them.
pub mod archive;
pub mod plan;
pub mod run;
