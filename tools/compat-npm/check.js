// check.js: the npm `etcd3` client against one endpoint, as a script whose printed lines must
// be the same for etcd 3.4 and for our store (revisions are printed relative to the first
// write, so keys written by an agent before the script starts do not matter). Run by
// tools/compat-npm.sh; every wait is bounded.
const { Etcd3 } = require('etcd3');

async function main() {
  const client = new Etcd3({ hosts: process.argv[2] });
  const out = (name, v) => console.log(`${name}: ${v}`);
  const err = async (name, f) => {
    try { await f(); out(name, 'no error'); } catch (e) { out(name, `${e.constructor.name}: ${e.message}`); }
  };
  const base = Number((await client.put('npm/a').value('1').exec()).header.revision);
  const rel = (r) => Number(r) - base;
  out('put', 'ok');
  const prev = await client.put('npm/a').value('2').getPrevious();
  out('put previous', prev && prev.value.toString());
  await client.put('npm/b').value('3');
  await client.put('npm/c').value('4');
  out('get', await client.get('npm/a').string());
  out('get missing', await client.get('npm/none').string());
  out('prefix', JSON.stringify(await client.getAll().prefix('npm/').strings()));
  out('prefix keys', JSON.stringify(await client.getAll().prefix('npm/').keys()));
  out('prefix count', await client.getAll().prefix('npm/').count());
  out('limit sort', JSON.stringify(await client.getAll().prefix('npm/').sort('Key', 'Descend').limit(2).keys()));
  const raw = await client.get('npm/a').exec();
  out('kv', `create ${rel(raw.kvs[0].create_revision)} mod ${rel(raw.kvs[0].mod_revision)} version ${raw.kvs[0].version}`);
  const del = await client.delete().key('npm/c').getPrevious();
  out('delete previous', JSON.stringify(del.map((kv) => kv.value.toString())));
  // Transactions.
  const t1 = await client.if('npm/a', 'Value', '==', '2').then(client.put('npm/t').value('yes')).else(client.put('npm/t').value('no')).commit();
  out('txn', `${t1.succeeded} rev ${rel(t1.header.revision)}`);
  const t2 = await client.if('npm/a', 'Version', '>', 5).then(client.put('npm/t').value('yes')).else(client.put('npm/t').value('no')).commit();
  out('txn else', `${t2.succeeded} ${await client.get('npm/t').string()}`);
  // Leases.
  const lease = client.lease(600, { autoKeepAlive: false });
  await lease.put('npm/leased').value('x');
  const id = await lease.grant();
  const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
  out('lease ttl', `${ttl.grantedTTL} ${Number(ttl.TTL) > 590} ${JSON.stringify(ttl.keys.map((k) => k.toString()))}`);
  await lease.keepaliveOnce();
  out('leased', await client.get('npm/leased').string());
  await lease.revoke();
  out('after revoke', await client.get('npm/leased').string());
  // Watch: history from the first write, then a live event.
  const events = [];
  const watcher = await client.watch().prefix('npm/').startRevision(String(base)).create();
  const done = new Promise((resolve) => {
    watcher.on('data', (res) => {
      for (const e of res.events) events.push(`${e.type} ${e.kv.key.toString()}=${e.kv.value.toString()}`);
      if (events.some((e) => e.includes('npm/live'))) resolve();
    });
  });
  await client.put('npm/live').value('now');
  await Promise.race([done, new Promise((r) => setTimeout(r, 10000))]);
  await watcher.cancel();
  out('watch', JSON.stringify(events));
  // Locks and elections (the client's own recipes, on leases and txns).
  // (etcd3's lock does not wait: a held lock fails to acquire.)
  const lock1 = client.lock('npm-lock');
  await lock1.acquire();
  await err('lock held', () => client.lock('npm-lock').acquire());
  await lock1.release();
  const lock2 = await client.lock('npm-lock').acquire();
  out('lock after release', 'acquired');
  await lock2.release();
  const election = client.election('npm-election');
  const campaign = election.campaign('one');
  await campaign.wait();
  out('leader', await election.leader());
  await campaign.resign();
  // Errors.
  await err('future revision', () => client.get('npm/a').revision(String(base + 1000)).string());
  await err('revoke unknown lease', () => client.leaseClient.leaseRevoke({ ID: '12345' }));
  await err('too large', () => client.put('npm/big').value('x'.repeat(1600 * 1024)));
  client.close();
}

main().catch((e) => { console.log(`fatal: ${e.constructor.name}: ${e.message}`); process.exit(1); });
