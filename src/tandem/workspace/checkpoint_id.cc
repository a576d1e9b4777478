#include "tandem/workspace/checkpoint_id.h"

#include <cctype>

namespace tandem::workspace {

Result<CheckpointId> CheckpointId::Parse(std::string_view hex) {
  if (hex.size() != 40) return InvalidArgument("checkpoint id must be 40 hex digits: " + std::string(hex));
  CheckpointId id;
  id.hex.reserve(40);
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return InvalidArgument("checkpoint id must be 40 hex digits: " + std::string(hex));
    }
    id.hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return id;
}

}  // namespace tandem::workspace
