#pragma once
// edge/net/router.h: exact (method, path) routes to handlers.
//
// Threads: Add() before the router is given to a Server, from one thread;
// afterwards the router is immutable and Dispatch() runs concurrently on
// every worker thread.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "edge/base/status.h"
#include "edge/net/http.h"

namespace edgetable::net {

// Runs on a worker thread; may block for a while (a storage commit), but every
// blocked handler holds one worker, so long waits shrink the pool. It must
// not throw; if it does, the client gets a 500 and the exception is logged.
using Handler = std::function<void(const Request&, Response&)>;

class Router {
 public:
  // Registers handler for exactly (method, path); no prefixes or patterns.
  // Returns kInvalidArgument if method is empty or path does not start with
  // '/', kAlreadyExists if the pair is already registered.
  Status Add(std::string_view method, std::string_view path, Handler handler);

  // Fills response: the handler's answer; 404 when no route has this path;
  // 405 with an Allow header when the path exists for other methods.
  void Dispatch(const Request& request, Response& response) const;

 private:
  // path -> method -> handler
  std::map<std::string, std::map<std::string, Handler, std::less<>>, std::less<>> routes_;
};

}  // namespace edgetable::net
