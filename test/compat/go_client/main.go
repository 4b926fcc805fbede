// go_client: the Go clientv3 (the client mgmt itself is written against), built from Debian's
// golang-etcd-server-dev, run as a script against one endpoint. It prints one line per step,
// leaving out what may differ between two correct servers (cluster, member and lease ids,
// versions, timings), so the output from our store and from etcd 3.4 can be compared as text.
// Every wait is bounded; the program ends by itself.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
)

func kvs(r *clientv3.GetResponse) string {
	var parts []string
	for _, kv := range r.Kvs {
		parts = append(parts, fmt.Sprintf("%s=%s(c%d,m%d,v%d,lease:%t)", kv.Key, kv.Value,
			kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease != 0))
	}
	return fmt.Sprintf("rev %d count %d more %t [%s]", r.Header.Revision, r.Count, r.More,
		strings.Join(parts, " "))
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go_client ENDPOINT")
		os.Exit(2)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{os.Args[1]},
		DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	step := func(name string, v interface{}, err error) {
		if err != nil {
			fmt.Printf("%s: error: %v\n", name, err)
			return
		}
		fmt.Printf("%s: %v\n", name, v)
	}

	// KV.
	p, err := cli.Put(ctx, "foo", "bar")
	step("put", p != nil && p.PrevKv == nil, err)
	p, err = cli.Put(ctx, "foo", "baz", clientv3.WithPrevKV())
	if err == nil {
		step("put prev_kv", string(p.PrevKv.Value), nil)
	} else {
		step("put prev_kv", nil, err)
	}
	for _, k := range []string{"fop", "foq", "zoo"} {
		_, err = cli.Put(ctx, k, "v-"+k)
		step("put "+k, "ok", err)
	}
	g, err := cli.Get(ctx, "fo", clientv3.WithPrefix())
	step("get prefix", kvs(g), err)
	g, err = cli.Get(ctx, "fo", clientv3.WithPrefix(), clientv3.WithLimit(2),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	step("get prefix limit sort", kvs(g), err)
	g, err = cli.Get(ctx, "fo", clientv3.WithPrefix(), clientv3.WithCountOnly())
	step("get count only", kvs(g), err)
	g, err = cli.Get(ctx, "foo", clientv3.WithRev(2))
	step("get rev 2", kvs(g), err)
	g, err = cli.Get(ctx, "a", clientv3.WithFromKey(), clientv3.WithKeysOnly())
	step("get from key, keys only", kvs(g), err)
	g, err = cli.Get(ctx, "foo", clientv3.WithRev(1000))
	step("get future rev", g, err)
	g, err = cli.Get(ctx, "foo", clientv3.WithSerializable())
	step("get serializable", kvs(g), err)
	d, err := cli.Delete(ctx, "foq", clientv3.WithPrevKV())
	if err == nil {
		step("delete prev_kv", fmt.Sprintf("deleted %d prev %s", d.Deleted, d.PrevKvs[0].Value), nil)
	} else {
		step("delete prev_kv", nil, err)
	}
	d, err = cli.Delete(ctx, "nothing")
	step("delete nothing", fmt.Sprintf("deleted %d rev %d", d.Deleted, d.Header.Revision), err)

	// Txn.
	t, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.Value("foo"), "=", "baz"),
		clientv3.Compare(clientv3.Version("foo"), ">", 1)).
		Then(clientv3.OpPut("t1", "yes"), clientv3.OpGet("foo")).
		Else(clientv3.OpPut("t2", "no")).Commit()
	if err == nil {
		step("txn then", fmt.Sprintf("succeeded %t rev %d responses %d value %s", t.Succeeded,
			t.Header.Revision, len(t.Responses),
			t.Responses[1].GetResponseRange().Kvs[0].Value), nil)
	} else {
		step("txn then", nil, err)
	}
	t, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision("foo"), ">", 100)).
		Then(clientv3.OpPut("t1", "yes")).
		Else(clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("t3", "nested")}, nil)).Commit()
	step("txn else nested", fmt.Sprintf("succeeded %t rev %d", t != nil && t.Succeeded,
		func() int64 {
			if t == nil {
				return 0
			}
			return t.Header.Revision
		}()), err)
	_, err = cli.Txn(ctx).Then(clientv3.OpPut("dup", "1"), clientv3.OpPut("dup", "2")).Commit()
	step("txn duplicate key", nil, err)
	t, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision("absent"), "=", 0)).
		Then(clientv3.OpPut("absent", "now")).Commit()
	step("txn create if absent", t != nil && t.Succeeded, err)

	// Watch: history from revision 1, with previous values.
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	wch := cli.Watch(wctx, "fo", clientv3.WithPrefix(), clientv3.WithRev(1),
		clientv3.WithPrevKV())
	seen := 0
	for resp := range wch {
		for _, ev := range resp.Events {
			prev := ""
			if ev.PrevKv != nil {
				prev = string(ev.PrevKv.Value)
			}
			fmt.Printf("watch: %s %s=%s mod %d prev %q\n", ev.Type, ev.Kv.Key, ev.Kv.Value,
				ev.Kv.ModRevision, prev)
			seen++
		}
		if seen >= 5 {
			break
		}
	}
	wcancel()
	step("watch events", seen, nil)

	// A live watch sees a put made after it started; progress is reported on request.
	lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
	live := cli.Watch(lctx, "live")
	_, err = cli.Put(ctx, "live", "1")
	step("put live", "ok", err)
	for resp := range live {
		if len(resp.Events) > 0 {
			step("live watch", fmt.Sprintf("%s %s", resp.Events[0].Type, resp.Events[0].Kv.Value), nil)
			break
		}
	}
	err = cli.RequestProgress(lctx)
	step("request progress", "ok", err)
	for resp := range live {
		if resp.IsProgressNotify() {
			step("progress notify", fmt.Sprintf("rev %d", resp.Header.Revision), nil)
			break
		}
	}
	lcancel()

	// Periodic progress (WithProgressNotify): the test runs both stores with a 500 ms interval.
	// A quiet watcher hears the current revision under its own id; one that was just sent an
	// event hears it at a later tick; a watcher that did not ask hears nothing of it.
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	plain := cli.Watch(pctx, "quiet")
	notified := cli.Watch(pctx, "quiet", clientv3.WithProgressNotify())
	now := func() int64 {
		r, err := cli.Get(ctx, "quiet")
		if err != nil {
			return -1
		}
		return r.Header.Revision
	}
	resp := <-notified
	step("periodic progress while quiet", fmt.Sprintf("progress %t at the current revision %t",
		resp.IsProgressNotify(), resp.Header.Revision == now()), resp.Err())
	_, err = cli.Put(ctx, "quiet", "1")
	step("put quiet", "ok", err)
	resp = <-notified
	step("watch with progress notify", fmt.Sprintf("%d event(s)", len(resp.Events)), resp.Err())
	resp = <-notified
	step("periodic progress after the event", fmt.Sprintf(
		"progress %t at the current revision %t", resp.IsProgressNotify(),
		resp.Header.Revision == now()), resp.Err())
	// A requested progress goes to every watcher, after whatever was sent to it before: the
	// watcher that did not ask for progress has its event, then that progress (at the revision
	// of a put elsewhere, made after the ticks above), and no periodic one between them.
	_, err = cli.Put(ctx, "elsewhere", "1")
	step("put elsewhere", "ok", err)
	err = cli.RequestProgress(pctx)
	step("request progress again", "ok", err)
	resp = <-plain
	step("watch without progress notify", fmt.Sprintf("%d event(s)", len(resp.Events)),
		resp.Err())
	resp = <-plain
	step("then the requested progress", fmt.Sprintf("progress %t at the current revision %t",
		resp.IsProgressNotify(), resp.Header.Revision == now()), resp.Err())
	pcancel()

	// Compaction: old revisions are gone, with etcd's error.
	cr, err := cli.Compact(ctx, 5)
	step("compact 5", cr != nil, err)
	_, err = cli.Get(ctx, "foo", clientv3.WithRev(3))
	step("get compacted rev", nil, err)
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	for resp := range cli.Watch(cctx, "foo", clientv3.WithRev(2)) {
		step("watch compacted", fmt.Sprintf("compact revision %d canceled %t", resp.CompactRevision,
			resp.Canceled), resp.Err())
		break
	}
	ccancel()

	// Leases.
	lease, err := cli.Grant(ctx, 600)
	step("lease grant", lease != nil && lease.TTL == 600, err)
	if lease == nil {
		os.Exit(1)
	}
	_, err = cli.Put(ctx, "leased", "x", clientv3.WithLease(lease.ID))
	step("put with lease", "ok", err)
	ttl, err := cli.TimeToLive(ctx, lease.ID, clientv3.WithAttachedKeys())
	if err == nil {
		step("lease ttl", fmt.Sprintf("granted %d keys %q", ttl.GrantedTTL, ttl.Keys), nil)
	} else {
		step("lease ttl", nil, err)
	}
	ka, err := cli.KeepAliveOnce(ctx, lease.ID)
	step("lease keepalive once", ka != nil && ka.TTL > 0, err)
	leases, err := cli.Leases(ctx)
	step("lease list", leases != nil && len(leases.Leases) == 1, err)
	_, err = cli.Revoke(ctx, lease.ID)
	step("lease revoke", "ok", err)
	g, err = cli.Get(ctx, "leased")
	step("get after revoke", kvs(g), err)
	_, err = cli.Revoke(ctx, lease.ID)
	step("lease revoke again", nil, err)
	_, err = cli.Put(ctx, "k", "v", clientv3.WithLease(lease.ID))
	step("put with revoked lease", nil, err)

	// Requests over 1.5 MiB.
	_, err = cli.Put(ctx, "big", strings.Repeat("x", 1600*1024))
	step("put too large", nil, err)

	// concurrency: sessions, a mutex two sessions contend for, an election, an STM counter
	// (what mgmt's scheduler and deploy code use).
	s1, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	step("session 1", s1 != nil, err)
	s2, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	step("session 2", s2 != nil, err)
	if s1 == nil || s2 == nil {
		os.Exit(1)
	}
	m1 := concurrency.NewMutex(s1, "/lock/")
	m2 := concurrency.NewMutex(s2, "/lock/")
	step("mutex 1 lock", "ok", m1.Lock(ctx))
	var order []string
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		err := m2.Lock(ctx)
		mu.Lock()
		order = append(order, "2 locked")
		mu.Unlock()
		done <- err
	}()
	// m2 is queued behind m1: its key exists under the lock prefix before m1 lets go.
	for i := 0; i < 200; i++ {
		g, _ := cli.Get(ctx, "/lock/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if g != nil && g.Count == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	order = append(order, "1 unlocks")
	mu.Unlock()
	step("mutex 1 unlock", "ok", m1.Unlock(ctx))
	step("mutex 2 lock", "ok", <-done)
	step("mutex order", strings.Join(order, ", "), nil)
	step("mutex 2 unlock", "ok", m2.Unlock(ctx))

	e1 := concurrency.NewElection(s1, "/election/")
	step("campaign 1", "ok", e1.Campaign(ctx, "one"))
	leader, err := e1.Leader(ctx)
	if err == nil {
		step("leader", string(leader.Kvs[0].Value), nil)
	} else {
		step("leader", nil, err)
	}
	e2 := concurrency.NewElection(s2, "/election/")
	won := make(chan error, 1)
	go func() { won <- e2.Campaign(ctx, "two") }()
	octx, ocancel := context.WithTimeout(ctx, 10*time.Second)
	observe := e1.Observe(octx)
	first := <-observe
	step("observe", string(first.Kvs[0].Value), nil)
	step("resign 1", "ok", e1.Resign(ctx))
	step("campaign 2", "ok", <-won)
	for o := range observe {
		if string(o.Kvs[0].Value) == "two" {
			step("observe after resign", "two", nil)
			break
		}
	}
	ocancel()

	for i := 0; i < 5; i++ {
		_, err := concurrency.NewSTM(cli, func(stm concurrency.STM) error {
			n := 0
			fmt.Sscanf(stm.Get("counter"), "%d", &n)
			stm.Put("counter", fmt.Sprint(n+1))
			return nil
		})
		if err != nil {
			step("stm", nil, err)
		}
	}
	g, err = cli.Get(ctx, "counter")
	step("stm counter", string(g.Kvs[0].Value), err)
	step("session 1 close", "ok", s1.Close())
	step("session 2 close", "ok", s2.Close())

	// Cluster and maintenance.
	members, err := cli.MemberList(ctx)
	step("member list", members != nil && len(members.Members) == 1, err)
	st, err := cli.Status(ctx, os.Args[1])
	step("status", st != nil && st.Leader != 0 && st.DbSize > 0, err)
	_, err = cli.Get(ctx, "")
	step("get empty key", nil, err)
}
