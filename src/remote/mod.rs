//! Talking to other machines: SSH (and the connection factory every
//! executor uses), the Docker API over SSH, container registries, TLS
//! endpoints, notification transports, and the parallel runner. Knows the
//! site model, nothing of deploy, backup or any other capability; only
//! executors use it.
pub mod connect;
pub mod docker_api;
pub mod notify;
pub mod parallel;
pub mod registry;
pub mod resolver;
pub mod ssh;
pub mod tls;
