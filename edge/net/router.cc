#include "edge/net/router.h"

#include <utility>

namespace edgetable::net {

Status Router::Add(std::string_view method, std::string_view path, Handler handler) {
  if (method.empty()) return Status::InvalidArgument("router: empty method for path '" + std::string(path) + "'");
  if (path.empty() || path.front() != '/') {
    return Status::InvalidArgument("router: path '" + std::string(path) + "' must start with '/'");
  }
  if (!handler) return Status::InvalidArgument("router: empty handler for " + std::string(method) + " " + std::string(path));
  auto& methods = routes_[std::string(path)];
  auto [it, inserted] = methods.emplace(std::string(method), std::move(handler));
  (void)it;
  if (!inserted) {
    return Status::AlreadyExists("router: " + std::string(method) + " " + std::string(path) + " registered twice");
  }
  return Status::Ok();
}

void Router::Dispatch(const Request& request, Response& response) const {
  auto path_it = routes_.find(request.path);
  if (path_it == routes_.end()) {
    response.status = 404;
    response.SetHeader("Content-Type", "text/plain");
    response.body = "no route for " + request.path + "\n";
    return;
  }
  auto method_it = path_it->second.find(request.method);
  if (method_it == path_it->second.end()) {
    std::string allow;
    for (const auto& [method, handler] : path_it->second) {
      (void)handler;
      if (!allow.empty()) allow += ", ";
      allow += method;
    }
    response.status = 405;
    response.SetHeader("Allow", allow);
    response.SetHeader("Content-Type", "text/plain");
    response.body = request.method + " not allowed on " + request.path + "\n";
    return;
  }
  method_it->second(request, response);
}

}  // namespace edgetable::net
