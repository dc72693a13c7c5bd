//go:build linux

package deploy

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/testproc"
)

// TestComposeHAFile checks the layout compose.ha.yaml describes (issue
// 18): three etcd members, two PostgreSQL nodes under Patroni in
// synchronous mode, two storage replicas and two owners on multi-host
// connection strings that follow the primary, the owners under a lease,
// every client given every address; and every vds command in it parses.
func TestComposeHAFile(t *testing.T) {
	vars := map[string]string{"PG_SUPERUSER_PASSWORD": "x", "PG_REPLICATION_PASSWORD": "x", "STORAGE_DB_PASSWORD": "x", "OWNER_DB_PASSWORD": "x"}
	f, err := loadCompose("../compose.ha.yaml", vars)
	require.NoError(t, err)
	roles := servers(f)
	require.Equal(t, []string{"storage-1", "storage-2"}, roles["storage"])
	require.Equal(t, []string{"owner-1", "owner-2"}, roles["owner"])
	require.Len(t, roles["verifier"], 1)
	var etcd, pg []string
	for name, s := range f.Services {
		switch {
		case strings.HasPrefix(s.Image, "gcr.io/etcd-development/etcd:"):
			etcd = append(etcd, name)
		case s.Image == "vds-patroni:latest":
			pg = append(pg, name)
			require.Equal(t, "etcd-1:2379,etcd-2:2379,etcd-3:2379", s.Environment["PATRONI_ETCD3_HOSTS"], name)
		}
	}
	require.Len(t, etcd, 3, "an etcd quorum survives one member")
	require.Len(t, pg, 2, "a primary and a synchronous standby")
	multi := func(dsn string) {
		require.Contains(t, dsn, "@pg-1:5432,pg-2:5432/", "both nodes")
		require.Contains(t, dsn, "target_session_attrs=read-write", "the primary")
		require.NotContains(t, dsn, "x@", "no password in the URL")
	}
	for _, s := range roles["storage"] {
		multi(f.Services[s].Environment["VDS_STORE"])
	}
	for _, o := range roles["owner"] {
		cmd := f.Services[o].Command
		multi(flagValue(cmd, "-store"))
		require.Contains(t, flagValue(cmd, "-store"), "/vds_owner?", "the owners' database apart")
		require.Equal(t, "3s", flagValue(cmd, "-lease"))
		require.Equal(t, "storage-1:5002,storage-2:5002", flagValue(cmd, "-storage"))
	}
	require.Equal(t, "owner-1:5001,owner-2:5001", flagValue(f.Services[roles["verifier"][0]].Command, "-owner"))
	conf, err := os.ReadFile("patroni/patroni.yml")
	require.NoError(t, err)
	require.Contains(t, string(conf), "synchronous_mode: true")
	require.Contains(t, string(conf), `synchronous_commit: "on"`)

	bin := testproc.Build(t)
	for name, s := range f.Services {
		if s.Build != "." {
			continue
		}
		out, err := exec.Command(bin, append(append([]string(nil), s.Command...), "-h")...).CombinedOutput()
		require.NoError(t, err, "service %s: vds %s -h:\n%s", name, strings.Join(s.Command, " "), out)
	}
}
