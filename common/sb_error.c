/* sb_error: texts for the SB_E* table in sb_error.h. */
#include "sb_error.h"

const char *sb_strerror(int err) {
  switch (err) {
  case SB_OK: return "success";
#define SB__ERR_MSG(name, code, msg) case SB_E##name: return msg;
    SB_ERRNO_MAP(SB__ERR_MSG)
#undef SB__ERR_MSG
  default: return "unknown error";
  }
}

const char *sb_err_name(int err) {
  switch (err) {
  case SB_OK: return "SB_OK";
#define SB__ERR_NAME(name, code, msg) case SB_E##name: return "SB_E" #name;
    SB_ERRNO_MAP(SB__ERR_NAME)
#undef SB__ERR_NAME
  default: return "SB_EUNKNOWN";
  }
}
