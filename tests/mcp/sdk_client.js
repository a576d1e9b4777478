#!/usr/bin/env node
// The official MCP TypeScript SDK's client (@modelcontextprotocol/sdk,
// pinned by scripts/mcp-servers) driving `tandem mcp serve`, for
// tests/e2e/mcp_serve_test.cc. One scenario per argv[4]; every observation
// is printed as one JSON line on stdout ({"type": ..., ...}) for the test
// to assert on; the server's stderr (its log) passes through to ours.
//   node sdk_client.js TANDEM_BINARY REPO_DIR SCENARIO
// Scenarios:
//   do        list tools; tandem_do to a verified outcome (with progress);
//             tandem_status; tandem_undo; a tandem_do with invalid arguments
//   cancel    tandem_do whose command hangs: abort once the command started
//             (the file started.marker appears), wait for the server's log
//             line that the cancelled call ended
//   approve   tandem_do whose command and MCP tool need approval: read each
//             approval id from progress, see the first in tandem_status,
//             approve each by id; an unknown id is an error result
//   fanout    tandem_do with variants (the ranked variants in the result);
//             tandem_pick of the top-ranked one; tandem_undo
//   run       tandem_run of a plan whose irreversible task needs approval:
//             read the approval id from progress, approve it by id
//   run_cancel  tandem_run cancelled at once (while it still loads its
//             configuration); wait for the server's log line that it ended
//   modern    the 2026-07-28 revision over the SDK's stdio transport (the
//             SDK's Client speaks up to 2025-11-25): server/discover,
//             tools/list and tools/call with _meta, an unsupported version
'use strict';
const fs = require('fs');
const path = require('path');
const {Client} = require('@modelcontextprotocol/sdk/client/index.js');
const {StdioClientTransport} = require('@modelcontextprotocol/sdk/client/stdio.js');
const {LoggingMessageNotificationSchema, LATEST_PROTOCOL_VERSION} =
    require('@modelcontextprotocol/sdk/types.js');

const [tandem, repo, scenario] = process.argv.slice(2);
const kTimeout = {timeout: 240000};

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

function transport() {
  return new StdioClientTransport({command: tandem, args: ['mcp', 'serve'], cwd: repo,
                                   env: Object.assign({}, process.env), stderr: 'inherit'});
}

async function connect() {
  const client = new Client({name: 'tandem-sdk-test', version: '1.0.0'});
  const logs = [];
  const waiters = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, n => {
    logs.push(n.params);
    for (const w of waiters.splice(0)) w();
  });
  await client.connect(transport());
  emit({type: 'connected', protocol: LATEST_PROTOCOL_VERSION,
        server: client.getServerVersion(), instructions: client.getInstructions() || ''});
  // Resolves once a log notification satisfies `match`.
  client.waitForLog = match => new Promise(resolve => {
    const check = () => {
      const hit = logs.find(match);
      if (hit) resolve(hit); else waiters.push(check);
    };
    check();
  });
  return client;
}

function text(result) {
  return (result.content || []).filter(c => c.type === 'text').map(c => c.text).join('\n');
}

function callResult(type, result, extra) {
  emit(Object.assign({type, isError: !!result.isError, text: text(result),
                      structured: result.structuredContent || null}, extra || {}));
}

async function scenarioDo() {
  const client = await connect();
  const tools = await client.listTools();
  emit({type: 'tools', names: tools.tools.map(t => t.name),
        annotations: Object.fromEntries(tools.tools.map(t => [t.name, t.annotations || null]))});
  const progress = [];
  const done = await client.callTool({name: 'tandem_do', arguments: {task: 'fix slugify'}},
                                     undefined,
                                     Object.assign({onprogress: p => progress.push(p.message)}, kTimeout));
  callResult('do', done, {progress});
  callResult('status', await client.callTool({name: 'tandem_status', arguments: {}}));
  callResult('undo', await client.callTool({name: 'tandem_undo', arguments: {}}));
  callResult('invalid', await client.callTool({name: 'tandem_do', arguments: {task: 5}}));
  await client.close();
}

async function scenarioCancel() {
  const client = await connect();
  const abort = new AbortController();
  const marker = path.join(repo, 'started.marker');
  const started = new Promise(resolve => {
    const watcher = fs.watch(repo, () => {
      if (fs.existsSync(marker)) { watcher.close(); resolve(); }
    });
    if (fs.existsSync(marker)) { watcher.close(); resolve(); }
  });
  const call = client.callTool({name: 'tandem_do', arguments: {task: 'slow task'}}, undefined,
                               Object.assign({signal: abort.signal}, kTimeout))
      .then(r => ({answered: true, text: text(r)}), e => ({answered: false, error: String(e)}));
  await started;
  abort.abort('the user cancelled');
  const outcome = await call;
  emit(Object.assign({type: 'aborted'}, outcome));
  const log = await client.waitForLog(l => l.data && l.data.cancelled === true);
  emit({type: 'cancel_log', data: log.data});
  await client.close();
}

async function scenarioApprove() {
  const client = await connect();
  const seen = new Set();
  const handled = [];
  const progress = [];
  // Every approval id that progress announces is answered: the first after a
  // look at tandem_status and an unknown id, then approved by its id.
  const answer = async id => {
    if (seen.size === 1) {
      callResult('status_while_waiting', await client.callTool({name: 'tandem_status', arguments: {}}));
      callResult('approve_unknown',
                 await client.callTool({name: 'tandem_approve', arguments: {id: 'approval-999'}}));
    }
    callResult('approve', await client.callTool({name: 'tandem_approve',
                                                 arguments: {id, reason: 'looks right'}}), {id});
  };
  const done = await client.callTool({name: 'tandem_do', arguments: {task: 'tag the release'}}, undefined,
                                     Object.assign({onprogress: p => {
                                       progress.push(p.message);
                                       const m = /approval (approval-\d+) needed/.exec(p.message || '');
                                       if (m && !seen.has(m[1])) { seen.add(m[1]); handled.push(answer(m[1])); }
                                     }}, kTimeout));
  await Promise.all(handled);
  callResult('do', done, {progress});
  await client.close();
}

async function scenarioFanout() {
  const client = await connect();
  const progress = [];
  const done = await client.callTool(
      {name: 'tandem_do', arguments: {task: 'make out.txt say ok', variants: 2,
                                      models: ['m-small', 'm-large']}},
      undefined, Object.assign({onprogress: p => progress.push(p.message)}, kTimeout));
  callResult('fanout', done, {progress});
  const variants = ((done.structuredContent || {}).fanout || {}).variants || [];
  const top = variants.find(v => v.rank === 1);
  const run = (done.structuredContent || {}).run_id;
  callResult('pick', await client.callTool(
      {name: 'tandem_pick', arguments: {variant: top ? `${run}/${top.n}` : 'none'}}, undefined, kTimeout));
  callResult('pick_again', await client.callTool(
      {name: 'tandem_pick', arguments: {variant: 'v9'}}, undefined, kTimeout));
  await client.close();
}

// Answers every approval that progress announces by its id.
function approveEach(client, progress, handled) {
  const seen = new Set();
  return p => {
    progress.push(p.message);
    const m = /approval (approval-\d+) needed/.exec(p.message || '');
    if (m && !seen.has(m[1])) {
      seen.add(m[1]);
      handled.push(client.callTool({name: 'tandem_approve', arguments: {id: m[1], reason: 'ship it'}})
                       .then(r => callResult('approve', r, {id: m[1]})));
    }
  };
}

async function scenarioRun() {
  const client = await connect();
  const progress = [];
  const handled = [];
  const done = await client.callTool({name: 'tandem_run', arguments: {}}, undefined,
                                     Object.assign({onprogress: approveEach(client, progress, handled)},
                                                   kTimeout));
  await Promise.all(handled);
  callResult('run', done, {progress});
  await client.close();
}

async function scenarioRunCancel() {
  const client = await connect();
  const abort = new AbortController();
  const call = client.callTool({name: 'tandem_run', arguments: {}}, undefined,
                               Object.assign({signal: abort.signal}, kTimeout))
      .then(r => ({answered: true, text: text(r)}), e => ({answered: false, error: String(e)}));
  abort.abort('the user cancelled');  // at once: the server has barely started the call
  emit(Object.assign({type: 'aborted'}, await call));
  const log = await client.waitForLog(l => l.data && l.data.cancelled === true);
  emit({type: 'cancel_log', data: log.data});
  await client.close();
}

// 2026-07-28 by hand over the SDK's transport: the SDK's Client only
// negotiates with initialize.
async function scenarioModern() {
  const t = transport();
  const pending = new Map();
  t.onmessage = m => { if (m.id !== undefined && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); } };
  await t.start();
  let next = 1;
  const request = (method, params) => new Promise(resolve => {
    const id = next++;
    pending.set(id, resolve);
    t.send({jsonrpc: '2.0', id, method, params});
  });
  const meta = v => ({'io.modelcontextprotocol/protocolVersion': v,
                      'io.modelcontextprotocol/clientInfo': {name: 'tandem-sdk-test', version: '1'},
                      'io.modelcontextprotocol/clientCapabilities': {}});
  emit({type: 'discover', reply: await request('server/discover', {_meta: meta('2026-07-28')})});
  emit({type: 'list', reply: await request('tools/list', {_meta: meta('2026-07-28')})});
  emit({type: 'call', reply: await request('tools/call',
                                           {name: 'tandem_status', arguments: {}, _meta: meta('2026-07-28')})});
  emit({type: 'unsupported', reply: await request('tools/list', {_meta: meta('2030-01-01')})});
  await t.close();
}

const scenarios = {do: scenarioDo, cancel: scenarioCancel, approve: scenarioApprove, modern: scenarioModern,
                   fanout: scenarioFanout, run: scenarioRun, run_cancel: scenarioRunCancel};
if (!scenarios[scenario]) {
  emit({type: 'error', error: 'unknown scenario ' + scenario});
  process.exit(2);
}
scenarios[scenario]().then(() => process.exit(0), e => {
  emit({type: 'error', error: String(e && e.stack || e)});
  process.exit(1);
});
