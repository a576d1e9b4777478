#include "tandem/providers/model_errors.h"

#include <gtest/gtest.h>

#include "tandem/base/redact.h"

namespace tandem::providers {
namespace {

using protocol::ModelErrorKind;

ModelErrorKind KindOf(int status, std::string_view body = "") { return ErrorFromHttpStatus("p", status, body).kind; }

TEST(ModelErrors, ClassifiesHttpStatuses) {
  EXPECT_EQ(KindOf(401), ModelErrorKind::kAuth);
  EXPECT_EQ(KindOf(403), ModelErrorKind::kAuth);
  EXPECT_EQ(KindOf(429), ModelErrorKind::kRateLimited);
  EXPECT_EQ(KindOf(529), ModelErrorKind::kOverloaded);
  EXPECT_EQ(KindOf(500), ModelErrorKind::kServer);
  EXPECT_EQ(KindOf(503), ModelErrorKind::kServer);
  EXPECT_EQ(KindOf(408), ModelErrorKind::kTimeout);
  EXPECT_EQ(KindOf(400), ModelErrorKind::kBadRequest);
  EXPECT_EQ(KindOf(404), ModelErrorKind::kBadRequest);
  EXPECT_EQ(KindOf(422), ModelErrorKind::kBadRequest);
}

TEST(ModelErrors, OverloadedErrorBodyIsOverloadedWhateverTheStatus) {
  EXPECT_EQ(KindOf(503, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
            ModelErrorKind::kOverloaded);
}

TEST(ModelErrors, DetectsContextTooLongInEitherFormat) {
  EXPECT_EQ(KindOf(400, R"({"error":{"message":"This model's maximum context length is 8192 tokens",)"
                        R"("type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})"),
            ModelErrorKind::kContextTooLong);
  EXPECT_EQ(KindOf(400, R"({"type":"error","error":{"type":"invalid_request_error",)"
                        R"("message":"prompt is too long: 210000 tokens > 200000 maximum"}})"),
            ModelErrorKind::kContextTooLong);
  EXPECT_EQ(KindOf(400, R"({"error":{"message":"messages: field required"}})"), ModelErrorKind::kBadRequest);
}

TEST(ModelErrors, MessageCarriesTheServerTextButNoSecret) {
  Redactor::Register("key-abcdef-0123456789");
  protocol::ModelError e =
      ErrorFromHttpStatus("openai", 401, R"({"error":{"message":"Incorrect API key provided: key-abcdef-0123456789"}})");
  EXPECT_NE(e.message.find("Incorrect API key"), std::string::npos);
  EXPECT_EQ(e.message.find("key-abcdef-0123456789"), std::string::npos);
  EXPECT_EQ(e.http_status, 401);
}

TEST(ModelErrors, NonJsonBodyIsKeptShort) {
  std::string html = "<html>" + std::string(5000, 'x') + "</html>";
  protocol::ModelError e = ErrorFromHttpStatus("p", 502, html);
  EXPECT_EQ(e.kind, ModelErrorKind::kServer);
  EXPECT_LT(e.message.size(), 400u);
}

TEST(ModelErrors, StreamPayloadKinds) {
  EXPECT_EQ(ErrorFromStreamPayload("p", {{"type", "overloaded_error"}, {"message", "Overloaded"}}).kind,
            ModelErrorKind::kOverloaded);
  EXPECT_EQ(ErrorFromStreamPayload("p", {{"message", "boom"}, {"type", "server_error"}}).kind,
            ModelErrorKind::kStreamBroken);
  protocol::ModelError e = ErrorFromStreamPayload("p", nlohmann::json::object());
  EXPECT_NE(e.message.find("An error occurred during streaming"), std::string::npos);
}

TEST(ModelErrors, TransferFailuresSplitByWhetherTheBodyBegan) {
  net::HttpResult r;
  r.error = net::TransferError::kNetwork;
  EXPECT_EQ(ErrorFromTransfer("p", r, false).kind, ModelErrorKind::kNetwork);
  EXPECT_EQ(ErrorFromTransfer("p", r, true).kind, ModelErrorKind::kStreamBroken);
  r.error = net::TransferError::kIdleTimeout;
  EXPECT_EQ(ErrorFromTransfer("p", r, true).kind, ModelErrorKind::kTimeout);
  r.error = net::TransferError::kConnect;
  EXPECT_EQ(ErrorFromTransfer("p", r, false).kind, ModelErrorKind::kNetwork);
}

}  // namespace
}  // namespace tandem::providers
