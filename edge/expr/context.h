#pragma once
// ExpressionContext: the ExpressionAttributeNames and ExpressionAttributeValues
// of one request, shared by every expression parsed for that request.
//
// DynamoDB checks placeholders across all the expressions of a request: each
// one used must be defined (checked while parsing, by the parse functions of
// edge/expr/expr.h) and each one defined must be used by some expression
// (checked once at the end by CheckAllUsed()). Usage:
//
//   ET_ASSIGN_OR_RETURN(ExpressionContext ctx,
//                       ExpressionContext::Create(names_or_null, values_or_null, has_expr));
//   ET_ASSIGN_OR_RETURN(auto cond, ParseCondition(cond_text, ExprKind::kCondition, ctx));
//   ET_ASSIGN_OR_RETURN(auto update, ParseUpdate(update_text, ctx));
//   ET_RETURN_IF_ERROR(ctx.CheckAllUsed());
//
// Threads: not thread-safe; one request's parses run on one thread.

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "edge/base/status.h"
#include "edge/item/value.h"

namespace edgetable::expr {

// Which parameter an expression came from; names the expression in messages.
enum class ExprKind : uint8_t { kCondition, kFilter, kKeyCondition, kProjection, kUpdate };

// "ConditionExpression", "FilterExpression", "KeyConditionExpression",
// "ProjectionExpression", "UpdateExpression".
std::string_view ExprKindName(ExprKind kind);

using NameMap = std::map<std::string, std::string, std::less<>>;   // "#n" -> attribute name
using ValueMap = std::map<std::string, item::Value, std::less<>>;  // ":v" -> value

class ExpressionContext {
 public:
  ExpressionContext() = default;
  // REQUIRES: keys and names valid (as Create checks); tests and internal use.
  ExpressionContext(NameMap names, ValueMap values)
      : names_(std::move(names)), values_(std::move(values)) {}

  // The context of a request, checking the maps themselves. `names` and
  // `values` are nullptr when the request lacks the parameter;
  // `any_expression` says whether the request has any expression parameter.
  // Returns kInvalidArgument (DynamoDB's messages):
  //   "ExpressionAttributeNames must not be empty"   (present but {})
  //   "ExpressionAttributeValues must not be empty"
  //   "ExpressionAttributeNames can only be specified when using expressions"
  //   "ExpressionAttributeValues can only be specified when using expressions"
  //   "ExpressionAttributeNames contains invalid key: Syntax error; key: \"x\""
  //       (a key that is not # followed by letters, digits or _)
  //   "ExpressionAttributeValues contains invalid key: Syntax error; key: \"v\""
  //   "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n"
  // The values themselves are not validated here (edge/item/validate.h).
  static Result<ExpressionContext> Create(const NameMap* names, const ValueMap* values,
                                          bool any_expression);

  // The attribute name that `placeholder` ("#n") stands for; marks it used.
  // Returns kInvalidArgument "An expression attribute name used in the
  // document path is not defined; attribute name: #n" when undefined (the
  // caller prefixes "Invalid <Kind>: ").
  Result<std::string> ResolveName(std::string_view placeholder);

  // The value that `placeholder` (":v") stands for; marks it used.
  // Returns kInvalidArgument "An expression attribute value used in
  // expression is not defined; attribute value: :v" when undefined.
  // The pointer stays valid for the lifetime of this context.
  Result<const item::Value*> ResolveValue(std::string_view placeholder);

  // Call after every expression of the request was parsed.
  // Returns kInvalidArgument, naming every unused key in sorted order:
  //   "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"
  //   "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"
  // (names are checked before values), else OK.
  Status CheckAllUsed() const;

  const NameMap& names() const { return names_; }
  const ValueMap& values() const { return values_; }

 private:
  NameMap names_;
  ValueMap values_;
  std::set<std::string, std::less<>> used_names_;
  std::set<std::string, std::less<>> used_values_;
};

}  // namespace edgetable::expr
