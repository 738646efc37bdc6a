import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSummary, SummaryParseError } from '../../services/common/summary-parser.js';
import { allSummaryFixtures, labeledValue, setByKey, summaryFixture } from '../helpers.js';

const V135 = 'nri_k8s_v1.35_minikube_containerd_stats_summary.json';
const V131 = 'nri_k8s_v1.31_minikube_stats_summary.json';
const V124 = 'nri_k8s_v1.24_minikube_stats_summary.json';
const V116 = 'nri_k8s_v1.16_minikube_docker_stats_summary.json';
const TELEGRAF = 'telegraf_stats_summary.json';

function expectParseError(body: string, pattern: RegExp, nodeName = 'node-a'): SummaryParseError {
  try {
    parseSummary(body, { nodeName });
  } catch (error) {
    assert.ok(error instanceof SummaryParseError, `expected SummaryParseError, got ${String(error)}`);
    assert.match(error.message, pattern);
    assert.match(error.message, new RegExp(`node "${nodeName}"`));
    return error;
  }
  assert.fail('expected the summary to be rejected');
}

describe('summary parser on every real sample', () => {
  for (const file of allSummaryFixtures()) {
    it(`parses ${file} into node, system container, pod and container sets`, () => {
      const batch = parseSummary(summaryFixture(file));
      const raw = JSON.parse(summaryFixture(file)) as { node: { nodeName: string; systemContainers?: unknown[] }; pods: { containers: unknown[] }[] };
      const count = (type: string) => batch.metricSets.filter((s) => s.type === type).length;
      assert.equal(batch.nodeName, raw.node.nodeName);
      assert.equal(count('node'), 1);
      assert.equal(count('sys_container'), raw.node.systemContainers?.length ?? 0);
      assert.equal(count('pod'), raw.pods.length);
      assert.equal(count('pod_container'), raw.pods.reduce((n, p) => n + p.containers.length, 0));
      for (const set of batch.metricSets) {
        assert.equal(set.labels.type, set.type);
        assert.equal(set.labels.nodename, batch.nodeName);
        for (const [name, value] of Object.entries(set.values)) {
          assert.ok(typeof value === 'bigint' || Number.isFinite(value), `${set.key} ${name} = ${String(value)}`);
          assert.ok(typeof value === 'bigint' || value >= 0, `${set.key} ${name} is negative`);
        }
      }
    });
  }
});

describe('summary parser: values taken from the files', () => {
  it('v1.35 containerd: container working set, pod network, volume bytes, node fs', () => {
    const { metricSets } = parseSummary(summaryFixture(V135));
    const kcm = setByKey(metricSets, 'namespace:kube-system/pod:kube-controller-manager-datagen-1-35/container:kube-controller-manager');
    assert.equal(kcm.values['memory/working_set'], 66174976);
    assert.equal(kcm.values['cpu/usage'], 1877547000);
    assert.equal(kcm.labels.container_name, 'kube-controller-manager');
    assert.equal(kcm.labels.pod_name, 'kube-controller-manager-datagen-1-35');
    assert.equal(kcm.labels.namespace_name, 'kube-system');
    const kcmPod = setByKey(metricSets, 'namespace:kube-system/pod:kube-controller-manager-datagen-1-35');
    assert.equal(kcmPod.values['network/rx'], 772919385);
    // static pod: the summary's uid is the config hash, kept as reported
    assert.equal(kcmPod.labels.pod_id, 'e9afcd8d3c942968802548f9a24d942a');
    const proxy = setByKey(metricSets, 'namespace:kube-system/pod:kube-proxy-8k9zt');
    assert.equal(labeledValue(proxy, 'filesystem/usage', 'Volume:kube-proxy'), 16384);
    assert.equal(labeledValue(proxy, 'filesystem/usage', 'Volume:kube-api-access-gzxxs'), 12288);
    assert.equal(proxy.values['ephemeral_storage/usage'], 90112);
    const node = setByKey(metricSets, 'node:datagen-1-35');
    assert.equal(labeledValue(node, 'filesystem/usage', '/'), 106943070208);
    assert.equal(labeledValue(node, 'filesystem/inodes_free', '/'), 59206606);
    assert.equal(node.values['network/rx'], 772921510);
  });

  it('v1.35: a field the kubelet left out stays absent while its neighbours stay', () => {
    const doc = JSON.parse(summaryFixture(V135)) as { pods: { podRef: { name: string }; containers: { memory: Record<string, unknown> }[] }[] };
    const etcd = doc.pods.find((p) => p.podRef.name === 'etcd-datagen-1-35')!.containers[0]!;
    delete etcd.memory.workingSetBytes; // as cri-o and Windows do for some fields
    const set = setByKey(parseSummary(JSON.stringify(doc)).metricSets, 'namespace:kube-system/pod:etcd-datagen-1-35/container:etcd');
    assert.equal('memory/working_set' in set.values, false, 'absent, not zero');
    assert.equal(set.values['memory/usage'], etcd.memory.usageBytes);
    assert.equal(set.values['memory/rss'], etcd.memory.rssBytes);
  });

  it('v1.16 docker: legacy system container names and pod volumes', () => {
    const { metricSets } = parseSummary(summaryFixture(V116));
    const runtime = setByKey(metricSets, 'node:minikube/container:docker-daemon');
    assert.equal(runtime.type, 'sys_container');
    assert.equal(runtime.labels.container_name, 'docker-daemon');
    setByKey(metricSets, 'node:minikube/container:kubelet');
    const ds = setByKey(metricSets, 'namespace:scraper/pod:e2e-ds-8zz8h');
    assert.equal(ds.values['network/rx'], 42);
    assert.equal(labeledValue(ds, 'filesystem/usage', 'Volume:an-empty-dir'), 4096);
    assert.equal(labeledValue(ds, 'filesystem/usage', 'Volume:default-token-tdc8v'), 12288);
    assert.equal(setByKey(metricSets, 'node:minikube').values['cpu/usage'], 216639857637);
  });

  it('v1.24 and v1.31: parse with and without swap, io and psi', () => {
    const v124 = setByKey(parseSummary(summaryFixture(V124)).metricSets, 'namespace:kube-system/pod:kube-apiserver-datagen-1-24/container:kube-apiserver');
    assert.equal(v124.values['memory/working_set'], 322899968);
    const v131 = setByKey(parseSummary(summaryFixture(V131)).metricSets, 'namespace:kube-system/pod:kindnet-gmqkj');
    assert.equal(v131.values['network/rx'], 586088171);
    assert.equal(labeledValue(v131, 'filesystem/usage', 'Volume:kube-api-access-8g297'), 12288);
  });

  it('telegraf 2016 capture: null pod start time, cpu-only container, no inodes, pageFaults above 2^32', () => {
    const { metricSets } = parseSummary(summaryFixture(TELEGRAF));
    const stopped = setByKey(metricSets, 'namespace:foons/pod:stopped-pod');
    assert.equal(stopped.createTimeMs, undefined);
    assert.equal(stopped.values.uptime, undefined);
    assert.equal(stopped.values['network/rx'], undefined);
    const container = setByKey(metricSets, 'namespace:foons/pod:stopped-pod/container:stopped-container');
    assert.equal(container.values['cpu/usage'], 56507553554);
    assert.equal(container.values['memory/working_set'], undefined, 'absent memory must stay absent');
    assert.equal(container.values['memory/usage'], undefined);
    assert.equal(container.labeled.length, 0, 'no rootfs or logs');
    const bar = setByKey(metricSets, 'node:node1/container:bar');
    assert.equal(bar.values['memory/page_faults'], 4769397409);
    assert.equal(bar.values['cpu/usage'], 101437561712262);
    const node = setByKey(metricSets, 'node:node1');
    assert.equal(labeledValue(node, 'filesystem/inodes', '/'), undefined);
    assert.equal(labeledValue(node, 'filesystem/limit', '/'), 105553100800);
  });

  it('uptime is the sample time minus the start time', () => {
    const foo = setByKey(parseSummary(summaryFixture(TELEGRAF)).metricSets, 'namespace:foons/pod:foopod/container:foocontainer');
    assert.equal(foo.values.uptime, foo.scrapeTimeMs - foo.createTimeMs!);
    assert.ok((foo.values.uptime as number) > 0);
  });
});

describe('summary parser: uint64 values stay exact', () => {
  it('keeps inodesFree = 2^64-1 and a cpu counter past 2^53 exact as bigint', () => {
    const text = summaryFixture(V135)
      .replace('"inodesFree": 59206606', '"inodesFree": 18446744073709551615')
      .replace('"usageCoreNanoSeconds": 62148052000', '"usageCoreNanoSeconds": 9007199254740993');
    assert.notEqual(text, summaryFixture(V135));
    const node = setByKey(parseSummary(text).metricSets, 'node:datagen-1-35');
    assert.equal(labeledValue(node, 'filesystem/inodes_free', '/'), 18446744073709551615n);
    assert.equal(node.values['cpu/usage'], 9007199254740993n);
    // JSON.parse would have rounded it
    assert.equal(String(JSON.parse(text).node.cpu.usageCoreNanoSeconds), '9007199254740992');
  });

  it('leaves long digit runs inside strings and floats alone', () => {
    const text = summaryFixture(TELEGRAF).replace('"name": "foopod"', '"name": "pod-12345678901234567890"');
    const pods = parseSummary(text).metricSets.filter((s) => s.type === 'pod');
    assert.ok(pods.some((p) => p.labels.pod_name === 'pod-12345678901234567890'));
  });

  it('tells a long integer from one inside a string with escaped quotes, and a long negative one from a positive', () => {
    const trap = 'x\\": 12345678901234567890, \\"y';
    const text = summaryFixture(TELEGRAF).replace('"name": "foopod"', `"name": "${trap}"`).replace('"capacityBytes": ', '"capacityBytes": 18446744073709551615, "ignored": ');
    const sets = parseSummary(text).metricSets;
    assert.ok(sets.some((s) => s.labels.pod_name === 'x": 12345678901234567890, "y'), 'the string survives unchanged');
    assert.ok(sets.some((s) => s.labeled.some((v) => v.name === 'filesystem/limit' && v.value === 18446744073709551615n)));
    // Two different literals that round to one double (2^64): both still exact.
    const twins = parseSummary(text.replace('"availableBytes": ', '"availableBytes": 18446744073709551614, "ignored": ')).metricSets.flatMap((s) => s.labeled);
    assert.ok(twins.some((v) => v.name === 'filesystem/limit' && v.value === 18446744073709551615n));
    assert.ok(twins.some((v) => v.name === 'filesystem/available' && v.value === 18446744073709551614n));
    expectParseError(summaryFixture(TELEGRAF).replace(/"usageCoreNanoSeconds": \d+/, '"usageCoreNanoSeconds": -12345678901234567890'), /usageCoreNanoSeconds: must not be negative, got -12345678901234567890/);
  });
});

describe('summary parser: network from interfaces[]', () => {
  const base = JSON.parse(summaryFixture(V135)) as { node: { network: Record<string, unknown> } };
  const interfaces = base.node.network.interfaces as { name: string; rxBytes: number; txBytes: number }[];

  it('sums every interface when the default interface has no counters and no name (RKE, Windows)', () => {
    const doc = structuredClone(base);
    for (const key of ['rxBytes', 'rxErrors', 'txBytes', 'txErrors']) delete doc.node.network[key];
    doc.node.network.name = '';
    const node = setByKey(parseSummary(JSON.stringify(doc)).metricSets, 'node:datagen-1-35');
    assert.equal(node.values['network/rx'], interfaces.reduce((s, i) => s + i.rxBytes, 0));
    assert.equal(node.values['network/tx'], interfaces.reduce((s, i) => s + i.txBytes, 0));
  });

  it('takes the interface named by network.name when only interfaces[] has counters', () => {
    const doc = structuredClone(base);
    for (const key of ['rxBytes', 'rxErrors', 'txBytes', 'txErrors']) delete doc.node.network[key];
    const eth0 = interfaces.find((i) => i.name === 'eth0')!;
    const node = setByKey(parseSummary(JSON.stringify(doc)).metricSets, 'node:datagen-1-35');
    assert.equal(node.values['network/rx'], eth0.rxBytes);
  });
});

describe('summary parser: malformed input is rejected with the node and the field', () => {
  it('truncated JSON', () => {
    const text = summaryFixture(V135);
    expectParseError(text.slice(0, text.length / 2), /invalid JSON/);
  });

  it('a wrong type names the field path', () => {
    const text = summaryFixture(TELEGRAF).replace('"workingSetBytes": 30789632', '"workingSetBytes": "lots"');
    const error = expectParseError(text, /workingSetBytes: must be a non-negative integer/);
    assert.match(error.field, /^pods\[0\]\(foons\/foopod\)\.containers\[0\]\(foocontainer\)\.memory\.workingSetBytes$/);
  });

  it('paths of a missing object, an interface counter and a volume field', () => {
    const doc = JSON.parse(summaryFixture(TELEGRAF)) as { pods: { podRef?: unknown; network: Record<string, unknown>; volume?: Record<string, unknown>[] }[] };
    const pod = doc.pods[0]!;
    const withoutRef = structuredClone(doc);
    delete withoutRef.pods[0]!.podRef;
    assert.equal(expectParseError(JSON.stringify(withoutRef), /is missing/).field, 'pods[0].podRef');
    const badInterface = structuredClone(doc);
    badInterface.pods[0]!.network.interfaces = [{ name: 'eth0', txBytes: 'many' }];
    assert.equal(expectParseError(JSON.stringify(badInterface), /must be a non-negative integer/).field, 'pods[0](foons/foopod).network.interfaces[0].txBytes');
    assert.ok(pod.volume && pod.volume.length > 0, 'the fixture has a pod volume');
    const badVolume = structuredClone(doc);
    badVolume.pods[0]!.volume![0]!.inodesFree = -1;
    assert.equal(expectParseError(JSON.stringify(badVolume), /must not be negative/).field, 'pods[0](foons/foopod).volume[0].inodesFree');
  });

  it('a negative counter', () => {
    const text = summaryFixture(TELEGRAF).replace('"rxBytes": 70749124', '"rxBytes": -5');
    expectParseError(text, /network\.rxBytes: must not be negative/);
  });

  it('a fractional counter and a bad time', () => {
    expectParseError(summaryFixture(TELEGRAF).replace('"usedBytes": 16754286592', '"usedBytes": 1.5'), /node\.fs\.usedBytes/);
    expectParseError(summaryFixture(TELEGRAF).replace('"startTime": "2016-09-26T18:46:43Z"', '"startTime": "yesterday"'), /must be an RFC 3339 time/);
  });

  it('a body over the size cap (50 MB)', () => {
    const huge = `{"node":{"nodeName":"x","pad":"${'x'.repeat(50 * 1024 * 1024)}"},"pods":[]}`;
    expectParseError(huge, /exceeds the 16777216-byte limit/);
  });

  it('not an object, pods not an array, missing node name', () => {
    expectParseError('[1,2,3]', /\(root\): must be an object/);
    expectParseError('{"node":{"nodeName":"n"},"pods":{}}', /pods: must be an array/);
    try {
      parseSummary('{"node":{},"pods":[]}');
      assert.fail('expected rejection');
    } catch (error) {
      assert.ok(error instanceof SummaryParseError);
      assert.match(error.message, /node\.nodeName: is missing/);
    }
  });

  it('invalid UTF-8 bytes', () => {
    assert.throws(() => parseSummary(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), { nodeName: 'node-a' }), /not valid UTF-8/);
  });
});

describe('summary parser: duplicates', () => {
  it('keeps the container started last when two share a name (Heapster behaviour)', () => {
    const doc = JSON.parse(summaryFixture(TELEGRAF)) as { pods: { containers: { name: string; startTime: string; memory?: { workingSetBytes: number } }[] }[] };
    const running = doc.pods[0]!.containers[0]!;
    const old = { ...structuredClone(running), startTime: '2016-01-01T00:00:00Z', memory: { ...running.memory!, workingSetBytes: 1 } };
    doc.pods[0]!.containers = [running, old];
    const batch = parseSummary(JSON.stringify(doc));
    const kept = setByKey(batch.metricSets, 'namespace:foons/pod:foopod/container:foocontainer');
    assert.equal(kept.values['memory/working_set'], 30789632);
    assert.equal(batch.metricSets.filter((s) => s.key === kept.key).length, 1);
    assert.match(batch.notes.join('\n'), /two containers named "foocontainer"/);
  });
});
