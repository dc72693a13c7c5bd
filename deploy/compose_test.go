//go:build linux

package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vdsproject/vds/internal/testproc"
)

// The files under test, relative to this package.
const (
	composePath    = "../compose.yaml"
	dockerfilePath = "../Dockerfile"
)

// composeFile is the part of the Compose specification that compose.yaml
// may use: decoding refuses any other key, so that the tests never run a
// topology that differs from the file in something they ignored.
type composeFile struct {
	Name     string              `yaml:"name"`
	Services map[string]*service `yaml:"services"`
	Volumes  map[string]*struct {
		Name string `yaml:"name"`
	} `yaml:"volumes"`
	// Ext holds the top-level extension fields (x-…), used for anchors.
	Ext map[string]any `yaml:",inline"`
}

type service struct {
	Image           string               `yaml:"image"`
	Build           string               `yaml:"build"`
	Restart         string               `yaml:"restart"`
	Init            bool                 `yaml:"init"`
	StopGracePeriod string               `yaml:"stop_grace_period"`
	Command         []string             `yaml:"command"`
	Entrypoint      []string             `yaml:"entrypoint"`
	Environment     map[string]string    `yaml:"environment"`
	Volumes         []string             `yaml:"volumes"`
	Ports           []string             `yaml:"ports"`
	DependsOn       map[string]dependsOn `yaml:"depends_on"`
	Healthcheck     *healthcheck         `yaml:"healthcheck"`
}

type dependsOn struct {
	Condition string `yaml:"condition"`
}

// The conditions of depends_on.
const (
	condCompleted = "service_completed_successfully"
	condHealthy   = "service_healthy"
	condStarted   = "service_started"
)

type healthcheck struct {
	Disable     bool     `yaml:"disable"`
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// interpolate replaces ${VAR}, ${VAR:-default} and ${VAR:?message} with
// values from vars, and $$ with $. Any other use of $ is an error, as is an
// unset variable with :? .
func interpolate(text string, vars map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		if strings.HasPrefix(text[i:], "$$") {
			b.WriteByte('$')
			i++
			continue
		}
		if !strings.HasPrefix(text[i:], "${") {
			return "", fmt.Errorf("interpolation: a bare $ at byte %d (write ${VAR} or $$)", i)
		}
		end := strings.IndexByte(text[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("interpolation: unclosed ${ at byte %d", i)
		}
		expr := text[i+2 : i+end]
		i += end
		name, op, arg := expr, "", ""
		if k := strings.Index(expr, ":"); k >= 0 {
			name, op, arg = expr[:k], expr[k:k+2], expr[k+2:]
		}
		if !varNameRE.MatchString(name) {
			return "", fmt.Errorf("interpolation: bad variable name in ${%s}", expr)
		}
		v, set := vars[name]
		switch op {
		case "":
		case ":-":
			if v == "" {
				v = arg
			}
		case ":?":
			if v == "" {
				return "", fmt.Errorf("interpolation: %s: %s", name, arg)
			}
		default:
			return "", fmt.Errorf("interpolation: unsupported form ${%s}", expr)
		}
		if !set && op == "" {
			return "", fmt.Errorf("interpolation: %s is not set", name)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// interpolateNode interpolates every scalar value under n (mapping keys
// are left alone; an alias shares its anchor's values).
func interpolateNode(n *yaml.Node, vars map[string]string) error {
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := interpolate(n.Value, vars)
		n.Value = v
		return err
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := interpolateNode(n.Content[i], vars); err != nil {
				return err
			}
		}
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if err := interpolateNode(c, vars); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadCompose reads compose.yaml with vars for its variables and checks
// the structure the mapping relies on.
func loadCompose(path string, vars map[string]string) (*composeFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Interpolate values, as Compose does (not keys, not comments), then
	// decode strictly.
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := interpolateNode(&root, vars); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	text, err := yaml.Marshal(&root)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	var f composeFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for k := range f.Ext {
		if !strings.HasPrefix(k, "x-") {
			return nil, fmt.Errorf("%s: unknown top-level key %q", path, k)
		}
	}
	if len(f.Services) == 0 {
		return nil, fmt.Errorf("%s: no services", path)
	}
	for name, s := range f.Services {
		if s == nil {
			return nil, fmt.Errorf("service %s: empty", name)
		}
		if s.Build == "" && s.Image == "" {
			return nil, fmt.Errorf("service %s: neither build nor image", name)
		}
		if s.Build != "" && s.Build != "." {
			return nil, fmt.Errorf("service %s: build %q (only the Dockerfile at the root, build: .)", name, s.Build)
		}
		for dep, d := range s.DependsOn {
			if f.Services[dep] == nil {
				return nil, fmt.Errorf("service %s depends on unknown service %s", name, dep)
			}
			switch d.Condition {
			case condCompleted, condHealthy, condStarted:
			default:
				return nil, fmt.Errorf("service %s: depends_on %s: condition %q", name, dep, d.Condition)
			}
			if d.Condition == condHealthy && f.Services[dep].Healthcheck == nil {
				return nil, fmt.Errorf("service %s waits for %s to be healthy, which has no health check", name, dep)
			}
		}
		for _, v := range s.Volumes {
			vol, _, err := splitVolume(v)
			if err != nil {
				return nil, fmt.Errorf("service %s: %w", name, err)
			}
			if _, ok := f.Volumes[vol]; !ok {
				return nil, fmt.Errorf("service %s mounts %s, not a named volume of the file", name, vol)
			}
		}
		if h := s.Healthcheck; h != nil && h.Disable {
			if len(h.Test) > 0 || h.Interval != "" || h.Timeout != "" || h.Retries != 0 || h.StartPeriod != "" {
				return nil, fmt.Errorf("service %s: a disabled health check with settings", name)
			}
			s.Healthcheck = nil
		}
		if h := s.Healthcheck; h != nil {
			if len(h.Test) < 2 || h.Test[0] != "CMD" {
				return nil, fmt.Errorf("service %s: health check test must be [\"CMD\", program, args…], not %q", name, h.Test)
			}
			for _, d := range []string{h.Interval, h.Timeout, h.StartPeriod} {
				if _, err := parseDuration(d); err != nil {
					return nil, fmt.Errorf("service %s: health check: %w", name, err)
				}
			}
		}
	}
	if _, err := startOrder(&f); err != nil {
		return nil, err
	}
	return &f, nil
}

// parseDuration parses a Compose duration ("" is zero).
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// splitVolume splits a mount "name:/target[:ro]".
func splitVolume(v string) (name, target string, err error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") || (len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw") {
		return "", "", fmt.Errorf("volume %q: want name:/target[:ro]", v)
	}
	return parts[0], parts[1], nil
}

// startOrder returns the services in an order that starts each after what
// it depends on (by name among those ready at once).
func startOrder(f *composeFile) ([]string, error) {
	var order []string
	done := map[string]bool{}
	for len(order) < len(f.Services) {
		var next []string
		for name, s := range f.Services {
			if done[name] {
				continue
			}
			ok := true
			for dep := range s.DependsOn {
				ok = ok && done[dep]
			}
			if ok {
				next = append(next, name)
			}
		}
		if len(next) == 0 {
			return nil, fmt.Errorf("depends_on has a cycle")
		}
		slices.Sort(next)
		for _, n := range next {
			done[n] = true
		}
		order = append(order, next...)
	}
	return order, nil
}

// dockerEntrypoint returns the exec-form ENTRYPOINT of the Dockerfile's
// last stage, and the ports it exposes and the user it runs as.
func dockerEntrypoint(path string) (entry []string, expose []string, user string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, "", err
	}
	// Join continued lines.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		word, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(word) {
		case "FROM": // a new stage: only the last one counts
			entry, expose, user = nil, nil, ""
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &entry); err != nil {
				return nil, nil, "", fmt.Errorf("ENTRYPOINT must be in exec form: %w", err)
			}
		case "EXPOSE":
			expose = append(expose, strings.Fields(rest)...)
		case "USER":
			user = strings.TrimSpace(rest)
		}
	}
	if len(entry) == 0 {
		return nil, nil, "", fmt.Errorf("%s: no ENTRYPOINT in its last stage", path)
	}
	return entry, expose, user, nil
}

// mapper turns the values of compose.yaml into those of local processes
// (the rules of the package documentation).
type mapper struct {
	f          *composeFile
	entrypoint string            // the Dockerfile's program path
	bin        string            // the vds command built from this checkout
	db         string            // the database service
	dbURL      string            // its replacement URL
	ports      map[string]string // "service:port" → 127.0.0.1:P
	vols       map[string]string // volume → directory
	freePort   func() (string, error)
}

// addrRE matches host:port after the start of a value or a separator.
var addrRE = regexp.MustCompile(`(^|[,/@=\s])([A-Za-z0-9._-]*):([0-9]{1,5})\b`)

// port returns the local address of a service's container port.
func (m *mapper) port(svc, port string) (string, error) {
	k := svc + ":" + port
	if a, ok := m.ports[k]; ok {
		return a, nil
	}
	a, err := m.freePort()
	if err != nil {
		return "", err
	}
	m.ports[k] = a
	return a, nil
}

// value maps one argument or environment value of service svc.
func (m *mapper) value(svc, v string) (string, error) {
	if strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
		rest := v[strings.Index(v, "://")+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			rest = rest[at+1:]
		}
		host, _, _ := strings.Cut(rest, "/")
		host, _, _ = strings.Cut(host, ":")
		if host != m.db {
			return "", fmt.Errorf("service %s: a database URL for %q, not the database service %s", svc, host, m.db)
		}
		return m.dbURL, nil
	}
	if v == m.entrypoint {
		return m.bin, nil
	}
	for _, mount := range m.f.Services[svc].Volumes {
		vol, target, _ := splitVolume(mount)
		if v == target || strings.HasPrefix(v, target+"/") {
			return m.vols[vol] + strings.TrimPrefix(v, target), nil
		}
	}
	var err error
	out := addrRE.ReplaceAllStringFunc(v, func(s string) string {
		sub := addrRE.FindStringSubmatch(s)
		sep, host, port := sub[1], sub[2], sub[3]
		target := ""
		switch {
		case host == "0.0.0.0" || host == "127.0.0.1" || host == "localhost" || host == "":
			target = svc
		case m.f.Services[host] != nil:
			target = host
		default:
			return s
		}
		a, e := m.port(target, port)
		if e != nil {
			err = e
		}
		return sep + a
	})
	return out, err
}

// values maps a list of values of svc.
func (m *mapper) values(svc string, vs []string) ([]string, error) {
	out := make([]string, len(vs))
	for i, v := range vs {
		var err error
		if out[i], err = m.value(svc, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// command returns the program and arguments of a service.
func (m *mapper) command(svc string) ([]string, error) {
	s := m.f.Services[svc]
	argv := s.Entrypoint
	if argv == nil {
		argv = []string{m.entrypoint}
	}
	return m.values(svc, append(slices.Clone(argv), s.Command...))
}

// env returns the environment of a service, sorted.
func (m *mapper) env(svc string) ([]string, error) {
	var env []string
	for k, v := range m.f.Services[svc].Environment {
		mv, err := m.value(svc, v)
		if err != nil {
			return nil, err
		}
		env = append(env, k+"="+mv)
	}
	slices.Sort(env)
	return env, nil
}

// healthCommand returns the health check's program and arguments.
func (m *mapper) healthCommand(svc string) ([]string, error) {
	h := m.f.Services[svc].Healthcheck
	if h == nil {
		return nil, nil
	}
	return m.values(svc, h.Test[1:])
}

// deployment is compose.yaml running as local processes.
type deployment struct {
	t     *testing.T
	m     *mapper
	db    *proxy
	vars  map[string]string
	procs map[string]*testproc.Proc
	order []string
}

// startCompose starts compose.yaml's services as processes, in order, and
// returns once every one has started and met what its dependents wait for.
// dbURL is the fresh database's URL and backend the address of its server
// (a TCP host:port or a Unix socket path).
func startCompose(t *testing.T, dbURL string) *deployment {
	t.Helper()
	vars := map[string]string{"POSTGRES_PASSWORD": "deploy-test-" + strconv.Itoa(os.Getpid())}
	f, err := loadCompose(composePath, vars)
	if err != nil {
		t.Fatal(err)
	}
	entry, _, _, err := dockerEntrypoint(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(entry) != 1 {
		t.Fatalf("Dockerfile ENTRYPOINT %q: want the vds program alone", entry)
	}
	px, err := newProxy(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(px.Close)
	m := &mapper{f: f, entrypoint: entry[0], bin: testproc.Build(t), dbURL: px.URL(),
		ports: map[string]string{}, vols: map[string]string{},
		freePort: func() (string, error) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return "", err
			}
			defer ln.Close()
			return ln.Addr().String(), nil
		}}
	for name, s := range f.Services {
		if s.Build == "" {
			if m.db != "" || !strings.HasPrefix(s.Image, "postgres:") {
				t.Fatalf("service %s (image %s): the only service not built from the Dockerfile must be the one PostgreSQL", name, s.Image)
			}
			m.db = name
		}
	}
	if m.db == "" {
		t.Fatal("compose.yaml has no PostgreSQL service")
	}
	root := t.TempDir()
	for vol := range f.Volumes {
		m.vols[vol] = filepath.Join(root, "vol-"+vol)
		if err := os.Mkdir(m.vols[vol], 0o700); err != nil {
			t.Fatal(err)
		}
	}
	order, _ := startOrder(f)
	d := &deployment{t: t, m: m, db: px, vars: vars, procs: map[string]*testproc.Proc{}, order: order}
	for _, name := range order {
		if name == m.db {
			d.waitDatabase()
			continue
		}
		d.start(name)
		// Meet what the dependents of name wait for.
		for _, other := range order {
			switch f.Services[other].DependsOn[name].Condition {
			case condCompleted:
				d.waitExit(name)
			case condHealthy:
				d.waitHealthy(name)
			}
		}
	}
	// As `docker compose up --wait`: every service with a health check
	// healthy.
	for _, name := range order {
		if name != m.db && f.Services[name].Healthcheck != nil {
			d.waitHealthy(name)
		}
	}
	return d
}

// start starts a service's process.
func (d *deployment) start(name string) *testproc.Proc {
	d.t.Helper()
	argv, err := d.m.command(name)
	if err != nil {
		d.t.Fatal(err)
	}
	env, err := d.m.env(name)
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Logf("%s: %s %s", name, strings.Join(redactEnv(env), " "), strings.Join(argv[1:], " "))
	p := testproc.StartEnv(d.t, env, argv[0], argv[1:]...)
	d.procs[name] = p
	return p
}

// redactEnv hides the values of variables that hold secrets.
func redactEnv(env []string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.Contains(k, "PASSWORD") {
			kv = k + "=…"
		}
		out[i] = kv
	}
	return out
}

// waitExit waits for a one-shot service to exit with status 0.
func (d *deployment) waitExit(name string) {
	d.t.Helper()
	p := d.procs[name]
	if err := p.Wait(2 * time.Minute); err != nil {
		d.t.Fatalf("service %s: %v\n%s", name, err, p.Log.String())
	}
}

// waitDatabase waits until the database server answers through the proxy.
func (d *deployment) waitDatabase() {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", d.db.Addr(), time.Second)
		if err == nil {
			c.Close()
			if err = d.db.Check(); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("database: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// healthy runs a service's health check once.
func (d *deployment) healthy(name string) error {
	argv, err := d.m.healthCommand(name)
	if err != nil {
		return err
	}
	timeout, _ := parseDuration(d.m.f.Services[name].Healthcheck.Timeout)
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = testproc.Env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// waitHealthy runs a service's health check until it passes, for at most
// start_period + retries × interval (as Docker would before calling it
// unhealthy), polling faster than interval.
func (d *deployment) waitHealthy(name string) {
	d.t.Helper()
	h := d.m.f.Services[name].Healthcheck
	interval, _ := parseDuration(h.Interval)
	start, _ := parseDuration(h.StartPeriod)
	limit := start + time.Duration(max(h.Retries, 1))*max(interval, time.Second)
	deadline := time.Now().Add(limit)
	for {
		err := d.healthy(name)
		if err == nil {
			return
		}
		if p := d.procs[name]; p != nil && p.Exited() {
			d.t.Fatalf("service %s exited before it was healthy: %v\n%s", name, p.Wait(0), p.Log.String())
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("service %s not healthy within %s: %v", name, limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// addr returns the local address of a service's container port.
func (d *deployment) addr(svc string, port int) string {
	d.t.Helper()
	a, err := d.m.port(svc, strconv.Itoa(port))
	if err != nil {
		d.t.Fatal(err)
	}
	return a
}

// dir returns the directory of a named volume.
func (d *deployment) dir(vol string) string { return d.m.vols[vol] }

// kill kills a service's process with SIGKILL.
func (d *deployment) kill(name string) { d.procs[name].Kill() }

// restart starts a stopped service again with the same command and
// environment, and waits until it is healthy.
func (d *deployment) restart(name string) {
	d.t.Helper()
	if p := d.procs[name]; p != nil && !p.Exited() {
		d.t.Fatalf("service %s is still running", name)
	}
	d.start(name)
	d.waitHealthy(name)
}
