// A C++17 program using krbap through CMake's imported target (see CMakeLists.txt): the
// header compiles as C++, the library links (shared or static) and its functions work.
// Prints "N passed, N failed"; exits non-zero on a failure.
#include <krbap.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace {

int passed = 0;
int failed = 0;

void check(bool ok, const std::string &what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        std::printf("FAIL %s\n", what.c_str());
    }
}

std::string take(krbap_buffer *buf) {
    std::string s(static_cast<const char *>(buf->value), buf->length);
    uint32_t minor = 0;
    krbap_buffer_free(&minor, buf);
    return s;
}

struct NameRelease {
    void operator()(krbap_name *name) const {
        uint32_t minor = 0;
        krbap_release_name(&minor, &name);
    }
};
using Name = std::unique_ptr<krbap_name, NameRelease>;

Name import(const std::string &text, int32_t type, uint32_t *major) {
    krbap_buffer in{text.size(), const_cast<char *>(text.data())};
    krbap_name *out = nullptr;
    uint32_t minor = 0;
    *major = krbap_import_name(&minor, &in, type, &out);
    return Name(out);
}

}  // namespace

int main() {
    check(std::string(krbap_version()) == EXPECTED_VERSION,
          std::string("krbap_version() is ") + EXPECTED_VERSION + ", not " + krbap_version());

    uint32_t minor = 0, context = 0;
    krbap_buffer text{0, nullptr};
    uint32_t major =
        krbap_display_status(&minor, KRBAP_S_DEFECTIVE_TOKEN, KRBAP_C_GSS_CODE, &context, &text);
    check(major == KRBAP_S_COMPLETE && take(&text) == "Invalid token was supplied",
          "krbap_display_status(DEFECTIVE_TOKEN)");

    Name alice = import("alice@TEST.LOCAL", KRBAP_NT_KRB5_PRINCIPAL, &major);
    check(major == KRBAP_S_COMPLETE && alice, "krbap_import_name(alice@TEST.LOCAL)");
    if (alice) {
        major = krbap_display_name(&minor, alice.get(), &text);
        check(major == KRBAP_S_COMPLETE && take(&text) == "alice@TEST.LOCAL",
              "krbap_display_name round trip");
    }
    Name bad = import("x", 99, &major);
    check(major == KRBAP_S_BAD_NAMETYPE && !bad, "an unknown name type: KRBAP_S_BAD_NAMETYPE");

    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
