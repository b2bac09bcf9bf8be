#pragma once
// Base64 (RFC 4648, standard alphabet) for B and BS values in DynamoDB JSON.
// Threads: pure functions.

#include <string>
#include <string_view>

#include "edge/base/status.h"

namespace edgetable::item {

// Padded base64 of `bytes`.
std::string Base64Encode(std::string_view bytes);
// Appends the padded base64 of `bytes` to *out.
void Base64EncodeTo(std::string_view bytes, std::string* out);

// Decodes standard base64. Padding is optional, as in DynamoDB (whose
// decoder also accepts unpadded input); whitespace and the URL-safe alphabet
// are not accepted. Returns kInvalidArgument naming the offending character
// offset or the bad length.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace edgetable::item
