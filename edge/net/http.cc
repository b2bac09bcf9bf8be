#include "edge/net/http.h"

#include <algorithm>

namespace edgetable::net {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

const std::string* Find(const std::vector<HeaderField>& headers, std::string_view name) {
  for (const HeaderField& h : headers) {
    if (HeaderNameEquals(h.name, name)) return &h.value;
  }
  return nullptr;
}

}  // namespace

bool HeaderNameEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

const std::string* Request::FindHeader(std::string_view name) const { return Find(headers, name); }

const std::string* Response::FindHeader(std::string_view name) const { return Find(headers, name); }

void Response::SetHeader(std::string_view name, std::string_view value) {
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const HeaderField& h) { return HeaderNameEquals(h.name, name); }),
                headers.end());
  headers.push_back(HeaderField{std::string(name), std::string(value)});
}

}  // namespace edgetable::net
