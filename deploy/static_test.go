//go:build linux

package deploy

import (
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/testproc"
)

var testVars = map[string]string{"POSTGRES_PASSWORD": "x"}

// flagValue returns the value following flag in args ("" if absent).
func flagValue(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// servers returns the services that run `vds ROLE serve`, by role.
func servers(f *composeFile) map[string][]string {
	out := map[string][]string{}
	for name, s := range f.Services {
		if len(s.Command) >= 2 && s.Command[1] == "serve" {
			out[s.Command[0]] = append(out[s.Command[0]], name)
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// TestComposeFile checks the deployment compose.yaml describes: the
// topology of issue 10, health checks on readiness, the owner's secrets
// apart, and a Dockerfile that fits it.
func TestComposeFile(t *testing.T) {
	f, err := loadCompose(composePath, testVars)
	require.NoError(t, err)
	entry, expose, user, err := dockerEntrypoint(dockerfilePath)
	require.NoError(t, err)
	require.Equal(t, []string{"/usr/local/bin/vds"}, entry)
	require.NotEmpty(t, user)
	require.NotContains(t, []string{"root", "0", "0:0"}, user, "the image runs as a non-root user")

	roles := servers(f)
	require.Len(t, roles["storage"], 2, "two storage replicas")
	require.Len(t, roles["owner"], 1)
	require.Len(t, roles["verifier"], 1)
	replicas := roles["storage"]

	var db string
	for name, s := range f.Services {
		if s.Build == "" {
			require.Empty(t, db, "one database service")
			require.True(t, strings.HasPrefix(s.Image, "postgres:"), "%s: %s", name, s.Image)
			require.NotNil(t, s.Healthcheck, "the database has a health check")
			db = name
		}
	}
	require.NotEmpty(t, db)

	// The one-shot set-up: idempotent, public files apart.
	var setup string
	for name, s := range f.Services {
		if len(s.Command) > 0 && s.Command[0] == "setup" {
			setup = name
			require.Equal(t, "no", s.Restart, "setup runs once")
			require.Nil(t, s.Healthcheck, "the image's health check is for servers")
			require.Contains(t, s.Command, "-if-missing", "compose up is safe to repeat")
			require.NotEmpty(t, flagValue(s.Command, "-public-dir"))
		}
	}
	require.NotEmpty(t, setup)
	ownerDir := flagValue(f.Services[setup].Command, "-dir")
	publicDir := flagValue(f.Services[setup].Command, "-public-dir")
	mountsOf := func(svc string) map[string]string { // target → volume
		m := map[string]string{}
		for _, v := range f.Services[svc].Volumes {
			vol, target, err := splitVolume(v)
			require.NoError(t, err)
			m[target] = vol
		}
		return m
	}
	ownerVol, publicVol := mountsOf(setup)[ownerDir], mountsOf(setup)[publicDir]
	require.NotEmpty(t, ownerVol)
	require.NotEmpty(t, publicVol)
	require.NotEqual(t, ownerVol, publicVol)

	var ports []string
	for role, names := range roles {
		for _, name := range names {
			s := f.Services[name]
			require.NotNil(t, s.Healthcheck, "%s has a health check", name)
			require.Equal(t, entry[0], s.Healthcheck.Test[1], "%s: the health check runs the image's vds", name)
			require.Contains(t, strings.Join(s.Healthcheck.Test, " "), "/readyz", "%s: healthy means ready", name)
			require.NotEmpty(t, flagValue(s.Command, "-metrics"), "%s serves metrics", name)
			require.Equal(t, "unless-stopped", s.Restart, name)
			require.True(t, waitsFor(f, name, setup, condCompleted), "%s waits for the set-up", name)
			for _, a := range []string{flagValue(s.Command, "-listen"), flagValue(s.Command, "-metrics")} {
				_, port, ok := strings.Cut(a, ":")
				require.True(t, ok, "%s: %q", name, a)
				ports = append(ports, port)
			}
			// Who sees the owner's secrets: the owner alone (and setup).
			mounts := mountsOf(name)
			dir := flagValue(s.Command, "-dir")
			if role == "owner" {
				require.Equal(t, ownerVol, mounts[dir], "the owner's -dir is the owner's volume")
			} else {
				require.Equal(t, publicVol, mounts[dir], "%s's -dir is the public volume", name)
				require.True(t, slices.Contains(s.Volumes, publicVol+":"+dir+":ro"), "%s mounts the public files read-only", name)
			}
			for _, v := range mounts {
				if role != "owner" {
					require.NotEqual(t, ownerVol, v, "%s must not mount the owner's secrets", name)
				}
			}
		}
	}
	for _, p := range ports {
		require.Contains(t, expose, p, "the Dockerfile exposes port %s", p)
	}

	// Replicas share the database and wait for it; clients know both.
	for _, name := range replicas {
		s := f.Services[name]
		require.True(t, strings.HasPrefix(s.Environment["VDS_STORE"], "postgres://"), "%s: VDS_STORE", name)
		require.Equal(t, condHealthy, s.DependsOn[db].Condition, "%s waits for the database", name)
	}
	require.Equal(t, f.Services[replicas[0]].Environment, f.Services[replicas[1]].Environment, "replicas share one database")
	for _, name := range append(roles["owner"], roles["verifier"]...) {
		s := f.Services[name]
		var want []string
		for _, r := range replicas {
			want = append(want, r+":5002")
			// Started, not healthy: a replica is ready once it holds the
			// owner's first state, which the owner pushes.
			require.Equal(t, condStarted, s.DependsOn[r].Condition, "%s waits for %s to start", name, r)
		}
		require.Equal(t, strings.Join(want, ","), flagValue(s.Command, "-storage"), "%s fails over between the replicas", name)
	}
	require.Equal(t, roles["verifier"][0]+":5003", flagValue(f.Services[roles["owner"][0]].Command, "-verifier"))

	// The Dockerfile builds a static binary on a minimal base.
	df, err := os.ReadFile(dockerfilePath)
	require.NoError(t, err)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "FROM scratch", "HEALTHCHECK"} {
		require.Contains(t, string(df), want)
	}
}

// waitsFor reports whether service name starts only after dep met cond,
// directly or through its dependencies.
func waitsFor(f *composeFile, name, dep, cond string) bool {
	for d, c := range f.Services[name].DependsOn {
		if (d == dep && c.Condition == cond) || waitsFor(f, d, dep, cond) {
			return true
		}
	}
	return false
}

// TestComposeCommandsParse runs every vds command of compose.yaml, mapped
// to this machine, with -h appended: the command must know every flag it is
// given (the flag parser stops at the first unknown one, before -h).
func TestComposeCommandsParse(t *testing.T) {
	f, err := loadCompose(composePath, testVars)
	require.NoError(t, err)
	bin := testproc.Build(t)
	m := testMapper(t, f, bin)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n, s := range f.Services {
			if s.Build != "" && !yield(n) {
				return
			}
		}
	}) {
		argv, err := m.command(name)
		require.NoError(t, err)
		env, err := m.env(name)
		require.NoError(t, err)
		cmd := exec.Command(argv[0], append(argv[1:], "-h")...)
		cmd.Env = append(testproc.Env(), env...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "service %s: vds %s -h:\n%s", name, strings.Join(argv[1:], " "), out)
		if h, _ := m.healthCommand(name); h != nil {
			require.Equal(t, bin, h[0])
			require.Equal(t, "health", h[1], "%s", name)
		}
	}
}

// testMapper is a mapper with deterministic ports and directories.
func testMapper(t *testing.T, f *composeFile, bin string) *mapper {
	t.Helper()
	next := 40000
	m := &mapper{f: f, entrypoint: "/usr/local/bin/vds", bin: bin, db: "postgres",
		dbURL: "postgres://u@127.0.0.1:1/fresh?sslmode=disable",
		ports: map[string]string{}, vols: map[string]string{},
		freePort: func() (string, error) { next++; return fmt.Sprintf("127.0.0.1:%d", next), nil }}
	dir := t.TempDir()
	for v := range f.Volumes {
		m.vols[v] = filepath.Join(dir, v)
	}
	return m
}

// TestMappingRules checks the rules of the package documentation on a
// small file.
func TestMappingRules(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "compose.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
# export PW="$(openssl rand -hex 16)": comments are not interpolated
x-common: &common
  build: .
services:
  postgres:
    image: postgres:17
    healthcheck: {test: ["CMD", "pg_isready"]}
  a:
    <<: *common
    command: ["storage", "serve", "-listen", "0.0.0.0:5002", "-metrics", ":9090", "-dir", "/pub/x", "-n", "${N:-7}", "-p", "$${LIT}"]
    environment:
      VDS_STORE: postgres://vds:${PW:?need PW}@postgres:5432/vds?sslmode=disable
      OTHER: /pub
    volumes: [pub:/pub:ro]
    depends_on: {postgres: {condition: service_healthy}}
    healthcheck: {test: ["CMD", "/usr/local/bin/vds", "health", "http://127.0.0.1:9090/readyz"]}
  b:
    <<: *common
    command: ["owner", "serve", "-storage", "a:5002,http://a:5002,elsewhere:5002", "-dir", "/pubx", "-t", "12:30"]
    depends_on: {a: {condition: service_healthy}}
volumes:
  pub:
`), 0o644))

	_, err := loadCompose(path, map[string]string{})
	require.ErrorContains(t, err, "need PW")
	f, err := loadCompose(path, map[string]string{"PW": "s3cret"})
	require.NoError(t, err)
	order, err := startOrder(f)
	require.NoError(t, err)
	require.Equal(t, []string{"postgres", "a", "b"}, order)
	require.Equal(t, ".", f.Services["a"].Build, "merge keys")

	m := testMapper(t, f, "/bin/vds-test")
	a, err := m.command("a")
	require.NoError(t, err)
	pa, pm := m.ports["a:5002"], m.ports["a:9090"]
	require.Equal(t, []string{"/bin/vds-test", "storage", "serve", "-listen", pa, "-metrics", pm, "-dir", m.vols["pub"] + "/x", "-n", "7", "-p", "${LIT}"}, a)
	env, err := m.env("a")
	require.NoError(t, err)
	require.Equal(t, []string{"OTHER=" + m.vols["pub"], "VDS_STORE=" + m.dbURL}, env)
	h, err := m.healthCommand("a")
	require.NoError(t, err)
	require.Equal(t, []string{"/bin/vds-test", "health", "http://" + pm + "/readyz"}, h)
	b, err := m.command("b")
	require.NoError(t, err)
	require.Equal(t, []string{"/bin/vds-test", "owner", "serve", "-storage", pa + ",http://" + pa + ",elsewhere:5002", "-dir", "/pubx", "-t", "12:30"}, b,
		"unknown hosts, other mounts' paths and non-addresses stay")

	// A database URL for another host is refused.
	_, err = m.value("a", "postgres://u@elsewhere:5432/x")
	require.Error(t, err)

	// Malformed files are refused.
	for _, bad := range []string{
		"services: {a: {build: ., nope: 1}}",                                                      // unknown key
		"services: {a: {build: ., depends_on: {b: {condition: service_started}}}}",                // unknown service
		"services: {a: {build: ., depends_on: {a: {condition: service_started}}}}",                // cycle
		"services: {a: {build: ., volumes: [\"/host:/x\"]}}",                                      // bind mount
		"services: {a: {build: ./other}}",                                                         // another Dockerfile
		"services: {a: {build: ., command: [\"$HOME\"]}}",                                         // bare $
		"services: {a: {build: .}, b: {build: ., depends_on: {a: {condition: service_healthy}}}}", // no health check
		"top: 1\nservices: {a: {build: .}}",
		"services: {a: {build: ., healthcheck: {disable: true, test: [\"CMD\", \"x\"]}}}", // unknown top-level key
	} {
		require.NoError(t, os.WriteFile(path, []byte(bad), 0o644))
		_, err := loadCompose(path, nil)
		require.Error(t, err, bad)
	}
}

// TestPGBackend checks how the test reaches the database of a DSN.
func TestPGBackend(t *testing.T) {
	for _, c := range []struct{ dsn, network, addr, url string }{
		{"postgres://postgres@/postgres?host=/tmp/pg&port=5555&sslmode=disable", "unix", "/tmp/pg/.s.PGSQL.5555", "postgres://postgres@PROXY/postgres?sslmode=disable"},
		{"postgres://u:p@127.0.0.1:6000/db_1?sslmode=disable", "tcp", "127.0.0.1:6000", "postgres://u:p@PROXY/db_1?sslmode=disable"},
		{"host=/run/pg port=5432 user=postgres dbname=x", "unix", "/run/pg/.s.PGSQL.5432", "postgres://postgres@PROXY/x?sslmode=disable"},
		{"host=/run/pg user=postgres dbname=x dbname=y", "unix", "/run/pg/.s.PGSQL.5432", "postgres://postgres@PROXY/y?sslmode=disable"},
	} {
		network, addr, u, err := pgBackend(c.dsn)
		require.NoError(t, err, c.dsn)
		u.Host = "PROXY"
		require.Equal(t, c.network, network, c.dsn)
		require.Equal(t, c.addr, addr, c.dsn)
		require.Equal(t, c.url, u.String(), c.dsn)
	}
	for _, bad := range []string{"postgres:///db", "host='/a b'"} {
		_, _, _, err := pgBackend(bad)
		require.Error(t, err, bad)
	}
}

// TestDockerfileBuild runs the Dockerfile's go build command as it is
// written (but for its output path) and checks that the binary is static
// (no program interpreter, no dynamic section), built with -trimpath and
// without cgo.
func TestDockerfileBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/vds again")
	}
	b, err := os.ReadFile(dockerfilePath)
	require.NoError(t, err)
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	var build []string
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "RUN ")
		if !ok {
			continue
		}
		for _, part := range strings.Split(rest, "&&") {
			if strings.Contains(part, "go build") {
				build, err = shellWords(part)
				require.NoError(t, err)
			}
		}
	}
	require.NotEmpty(t, build, "the Dockerfile runs go build")
	var env []string
	for len(build) > 0 && strings.Contains(build[0], "=") && !strings.HasPrefix(build[0], "-") {
		env = append(env, build[0])
		build = build[1:]
	}
	require.Equal(t, []string{"go", "build"}, build[:2])
	out := filepath.Join(t.TempDir(), "vds")
	i := slices.Index(build, "-o")
	require.Positive(t, i, "go build -o")
	build[i+1] = out
	cmd := exec.Command("go", build[1:]...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), env...)
	o, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", strings.Join(env, " "), strings.Join(build, " "), o)

	f, err := elf.Open(out)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "a static binary has no program interpreter")
		require.NotEqual(t, elf.PT_DYNAMIC, p.Type, "a static binary has no dynamic section")
	}
	bi, err := buildinfo.ReadFile(out)
	require.NoError(t, err)
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	require.Equal(t, "0", settings["CGO_ENABLED"])
	require.Equal(t, "true", settings["-trimpath"])
}

// shellWords splits a shell command line at blanks outside double quotes,
// dropping the quotes (no other quoting, no expansion).
func shellWords(s string) ([]string, error) {
	var out []string
	var w strings.Builder
	in, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, in = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				out = append(out, w.String())
				w.Reset()
				in = false
			}
		case r == '\'' || r == '\\' || r == '$' || r == '`':
			return nil, fmt.Errorf("shellWords: %q needs a shell", s)
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("shellWords: unclosed quote in %q", s)
	}
	if in {
		out = append(out, w.String())
	}
	return out, nil
}
