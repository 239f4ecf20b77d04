/* sbc_error: the result table of switchboard/client.h (SBC_RESULT_MAP). */
#include "switchboard/client.h"

#define SBC_STR(x) #x
#define SBC_XSTR(x) SBC_STR(x)

const char *sbc_strerror(int code) {
  switch (code) {
#define SBC_RESULT_TEXT(name, value, text) \
  case value: return text;
    SBC_RESULT_MAP(SBC_RESULT_TEXT)
#undef SBC_RESULT_TEXT
  default: return "unknown result code";
  }
}

const char *sbc_version(void) {
  return SBC_XSTR(SBC_VERSION_MAJOR) "." SBC_XSTR(SBC_VERSION_MINOR) "." SBC_XSTR(SBC_VERSION_PATCH);
}
