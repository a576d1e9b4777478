// CommandIo: where a subcommand's body writes and what it is wired to. The
// CLI passes the default (the terminal: stdout, stderr, Ctrl-C, the y/N
// prompt); `tandem mcp serve` passes each tool call its own: text into
// memory streams, events to the MCP client as progress, cancellation by
// the client, approvals by id. stdout then carries only the protocol.
//
// Thread-safety: plain data; the pointees must outlive the call.
#pragma once

#include <cstdio>

#include "tandem/agent/interrupt.h"
#include "tandem/orchestrator/ops.h"
#include "tandem/protocol/event.h"

namespace tandem::cli {

struct CommandIo {
  std::FILE* out = stdout;  // the command's report (and the terminal renderer's lines)
  std::FILE* err = stderr;  // errors and warnings
  // Non-null: events go here, not to a renderer on `out`.
  protocol::EventSink* events = nullptr;
  // do, pick, run/resume: non-null: the caller's interrupt hub; no signal
  // handler is installed (the caller decides what stops the command). An
  // Interrupt() that came before the body subscribed still stops it.
  agent::InterruptHub* interrupts = nullptr;
  // run/resume: non-null: the caller's input queue (orchestrator/ops.h),
  // which then owns every input: no terminal is read and no signal handler
  // installed; the caller interrupts with a kInterrupt op (and, for a cancel
  // that may come before the body set its handlers, `interrupts`) and
  // answers the approvals opened on it (it must Watch it to be Answerable).
  // The body sets its kInterrupt and kSteer handlers on it and removes them
  // on return.
  // do: non-null: the executor's irreversible commands (and MCP tools that
  // need approval) are decided by approval.policy, `ask` opening them on this
  // queue, and each decision is an approvals row, as in `tandem run`; null:
  // they are refused, as in the terminal.
  orchestrator::LiveOps* ops = nullptr;
};

}  // namespace tandem::cli
