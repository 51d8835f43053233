// The one mapping from a parsed HTTP request head to the service's HttpRequest, used by the
// server's connections and by the fuzz target, so the fuzzer drives exactly what clients reach.
#pragma once

#include <boost/beast/http.hpp>
#include <string>

#include "cipherchart/protocol/api.h"
#include "src/server/service.h"

namespace cipherchart::server {

inline HttpRequest RequestFromHead(
    const boost::beast::http::request_parser<boost::beast::http::buffer_body>& parser) {
  namespace http = boost::beast::http;
  const auto& head = parser.get();
  HttpRequest req;
  req.method = std::string(head.method_string());
  req.target = std::string(head.target());
  req.content_type = std::string(head[http::field::content_type]);
  req.authorization = std::string(head[http::field::authorization]);
  req.section = std::string(head[protocol::header::kSection]);
  req.policy = std::string(head[protocol::header::kPolicy]);
  if (auto len = parser.content_length()) req.content_length = *len;
  req.has_body = !parser.is_done();
  return req;
}

}  // namespace cipherchart::server
