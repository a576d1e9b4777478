#!/usr/bin/env node
// A small MCP server over stdio for tandem's tests, one behavior per mode
// (argv[2]); nobody's production server. Modes:
//   modern    answers server/discover (2026-07-28) and refuses initialize
//   legacy    answers initialize (2025-11-25); server/discover is -32601
//   silent-discover  never answers server/discover, answers initialize
//   crash-on-call    exits with code 3 (after a stderr line) on tools/call
//   hang-on-call     never answers tools/call (write_file writes its file
//                    first); logs {"called": tool} and notifications/cancelled
//                    to the file named by argv[3] as they arrive
//   garbage-on-call  prints a non-JSON line on tools/call
//   never-starts     reads stdin and never answers anything
// Tools: echo (read-only: returns its "text"), write_file (writes "path"
// with "content" relative to the working directory), delete_all
// (annotated destructive; does nothing), touch (no annotations at all:
// writes "path", empty).
'use strict';
const fs = require('fs');
const mode = process.argv[2] || 'modern';
const logFile = process.argv[3];

const tools = [
  {name: 'echo', description: 'Echo text back.',
   inputSchema: {type: 'object', properties: {text: {type: 'string'}}, required: ['text']},
   annotations: {readOnlyHint: true}},
  {name: 'write_file', description: 'Write a file.',
   inputSchema: {type: 'object', properties: {path: {type: 'string'}, content: {type: 'string'}},
                 required: ['path', 'content']},
   annotations: {readOnlyHint: false, destructiveHint: false}},
  {name: 'delete_all', description: 'Pretends to delete everything.',
   inputSchema: {type: 'object', properties: {}}, annotations: {destructiveHint: true}},
  {name: 'touch', description: 'Create an empty file.',
   inputSchema: {type: 'object', properties: {path: {type: 'string'}}, required: ['path']}},
  {name: 'bad name!', description: 'An invalid name: never listed by tandem.', inputSchema: {type: 'object'}},
];

function send(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function reply(id, result) { send({jsonrpc: '2.0', id, result}); }
function error(id, code, message) { send({jsonrpc: '2.0', id, error: {code, message}}); }

function handle(msg) {
  if (msg.method === 'notifications/cancelled' && logFile) {
    fs.appendFileSync(logFile, JSON.stringify(msg.params) + '\n');
  }
  if (msg.id === undefined) return;
  if (mode === 'never-starts') return;
  switch (msg.method) {
    case 'server/discover':
      if (mode === 'legacy') return error(msg.id, -32601, 'Method not found');
      if (mode === 'silent-discover') return;
      return reply(msg.id, {supportedVersions: ['2026-07-28'], capabilities: {tools: {}},
                            serverInfo: {name: 'fake', version: '1'}});
    case 'initialize':
      if (mode === 'modern') return error(msg.id, -32022, 'Unsupported protocol version');
      return reply(msg.id, {protocolVersion: '2025-11-25', capabilities: {tools: {}},
                            serverInfo: {name: 'fake', version: '1'}});
    case 'tools/list': {
      const meta = (msg.params && msg.params._meta) || {};
      const rev = meta['io.modelcontextprotocol/protocolVersion'] || 'none';
      return reply(msg.id, {tools: tools.map(t => Object.assign({}, t, {description: t.description + ' [' + rev + ']'}))});
    }
    case 'tools/call': {
      const name = msg.params.name, args = msg.params.arguments || {};
      if (mode === 'crash-on-call') { process.stderr.write('fake: crashing on purpose\n'); process.exit(3); }
      if (mode === 'hang-on-call') {
        if (name === 'write_file') fs.writeFileSync(args.path, args.content);
        if (logFile) fs.appendFileSync(logFile, JSON.stringify({called: name}) + '\n');
        return;
      }
      if (mode === 'garbage-on-call') { process.stdout.write('this is not json\n'); return; }
      if (name === 'echo') {
        if (typeof args.text !== 'string') {
          return reply(msg.id, {content: [{type: 'text', text: 'text must be a string'}], isError: true});
        }
        return reply(msg.id, {content: [{type: 'text', text: 'echo: ' + args.text}]});
      }
      if (name === 'write_file') {
        try { fs.writeFileSync(args.path, args.content); } catch (e) {
          return reply(msg.id, {content: [{type: 'text', text: 'cannot write: ' + e.message}], isError: true});
        }
        return reply(msg.id, {content: [{type: 'text', text: 'wrote ' + args.path}]});
      }
      if (name === 'touch') {
        fs.writeFileSync(args.path, '');
        return reply(msg.id, {content: [{type: 'text', text: 'touched ' + args.path}]});
      }
      if (name === 'delete_all') return reply(msg.id, {content: [{type: 'text', text: 'nothing deleted'}]});
      return error(msg.id, -32602, 'Unknown tool: ' + name);
    }
    case 'ping': return reply(msg.id, {});
    default: return error(msg.id, -32601, 'Method not found: ' + msg.method);
  }
}

let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', chunk => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    if (line.trim()) handle(JSON.parse(line));
  }
});
process.stdin.on('end', () => process.exit(0));
