#include "edge/expr/internal/lexer.h"

namespace edgetable::expr::internal {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '_'; }

}  // namespace

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> out;
  size_t i = 0;
  const size_t n = text.size();
  auto emit = [&](TokenKind kind, size_t begin, size_t end) {
    out.push_back(Token{kind, text.substr(begin, end - begin), begin, end});
  };
  while (i < n) {
    const char c = text[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    const size_t begin = i;
    if (IsAlpha(c) || c == '_') {
      while (i < n && IsWordChar(text[i])) ++i;
      emit(TokenKind::kName, begin, i);
      continue;
    }
    if (IsDigit(c)) {
      while (i < n && IsDigit(text[i])) ++i;
      emit(TokenKind::kNumber, begin, i);
      continue;
    }
    if (c == '#' || c == ':') {
      ++i;
      while (i < n && IsWordChar(text[i])) ++i;
      if (i == begin + 1) {
        emit(TokenKind::kInvalid, begin, i);
      } else {
        emit(c == '#' ? TokenKind::kNamePlaceholder : TokenKind::kValuePlaceholder, begin, i);
      }
      continue;
    }
    TokenKind kind = TokenKind::kInvalid;
    size_t len = 1;
    const char next = i + 1 < n ? text[i + 1] : '\0';
    switch (c) {
      case '(':
        kind = TokenKind::kLParen;
        break;
      case ')':
        kind = TokenKind::kRParen;
        break;
      case '[':
        kind = TokenKind::kLBracket;
        break;
      case ']':
        kind = TokenKind::kRBracket;
        break;
      case ',':
        kind = TokenKind::kComma;
        break;
      case '.':
        kind = TokenKind::kDot;
        break;
      case '+':
        kind = TokenKind::kPlus;
        break;
      case '-':
        kind = TokenKind::kMinus;
        break;
      case '=':
        kind = TokenKind::kEq;
        break;
      case '<':
        if (next == '>') {
          kind = TokenKind::kNe;
          len = 2;
        } else if (next == '=') {
          kind = TokenKind::kLe;
          len = 2;
        } else {
          kind = TokenKind::kLt;
        }
        break;
      case '>':
        if (next == '=') {
          kind = TokenKind::kGe;
          len = 2;
        } else {
          kind = TokenKind::kGt;
        }
        break;
      default:
        // Report a whole UTF-8 sequence, not a lone lead byte.
        while (i + len < n && (static_cast<unsigned char>(text[i + len]) & 0xC0) == 0x80 &&
               (static_cast<unsigned char>(c) & 0x80) != 0) {
          ++len;
        }
        break;
    }
    i += len;
    emit(kind, begin, i);
  }
  out.push_back(Token{TokenKind::kEnd, "<EOF>", n, n});
  return out;
}

}  // namespace edgetable::expr::internal
