// JSON form of protocol::Event, one object per event (the --json JSONL
// stream, the dashboard feed). docs/EVENTS.md is the reference.
#pragma once

#include <nlohmann/json.hpp>

#include "tandem/protocol/event.h"

namespace tandem::protocol {

nlohmann::json EventToJson(const Event& event);
nlohmann::json UsageToJson(const Usage& usage);

}  // namespace tandem::protocol
