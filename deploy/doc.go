// Package deploy holds the system tests of the deployment that the
// repository ships: compose.yaml and the Dockerfile at its root. It has no
// code of its own.
//
// Containers cannot be built on the machines that run the tests, so the
// tests read compose.yaml and run every service's command, with its
// environment, as a local process of the vds command built from this
// checkout, against a real PostgreSQL (VDS_TEST_POSTGRES; without it the
// tests that need one skip with a one-line reason). The topology users
// deploy is the one the tests run.
//
// # From containers to processes
//
// The tests map compose.yaml to local processes with these rules, and with
// no others (a file that needs another fails the tests):
//
//   - Variables: ${VAR}, ${VAR:-default} and ${VAR:?message} are
//     interpolated from a set the test chooses (POSTGRES_PASSWORD, and
//     VECTOR_DIM left to its default) in every value (not in keys or
//     comments); $$ is a literal $, and any other $ is an error.
//   - Programs: a service with `build: .` runs the Dockerfile's ENTRYPOINT
//     followed by its `command`; the ENTRYPOINT's path, wherever it appears
//     (health checks too), is the vds command built from this checkout.
//   - The database: the one service without `build` must use a postgres
//     image. It is not started: the test gives each run a fresh database on
//     the server of VDS_TEST_POSTGRES, reached through a TCP proxy on
//     127.0.0.1 that the test can cut. A postgres:// URL naming that
//     service is replaced, whole, by the URL of the fresh database through
//     the proxy (credentials and database name are the test server's).
//   - Addresses: every (service, container port) pair gets its own free
//     port on 127.0.0.1. In a service's command, environment and health
//     check, SERVICE:PORT means 127.0.0.1:P(SERVICE, PORT), and
//     0.0.0.0:PORT, 127.0.0.1:PORT, localhost:PORT and :PORT mean the
//     service's own 127.0.0.1:P(service, PORT), also inside URLs and
//     comma-separated lists. `ports:` (what the host publishes) is not used.
//   - Volumes: each named volume is a fresh directory; an argument or an
//     environment value equal to a mount's target, or under it, is
//     rewritten to the volume's directory. Read-only (:ro) is not enforced
//     (the test may run as root).
//   - Order and health: services start in the order of depends_on;
//     service_completed_successfully waits for the one-shot service to exit
//     0, service_healthy runs the service's health check command until it
//     exits 0 (within start_period + retries × interval), service_started
//     waits for nothing. The database is healthy when its server answers.
//     A service whose health check is disabled has none (the image's
//     HEALTHCHECK is not run by the tests).
//     Once every service has started, the test waits for every health check
//     to pass, as `docker compose up --wait` does.
//   - Processes get the test's environment without the variables that
//     configure vds (VDS_*, DO_*, SS_*, VERIFIER_*, VECTOR_DIM), plus the
//     service's `environment`.
package deploy
