/* errmap.c - see errmap.h */
#include "fs/errmap.h"

#include <errno.h>

#include "util/log.h"

int fs_errno(enum jira_status st)
{
	switch (st) {
	case JIRA_OK: return 0;
	case JIRA_ERR_BAD_REQUEST: return EINVAL;
	case JIRA_ERR_AUTH: return EACCES;
	case JIRA_ERR_FORBIDDEN: return EACCES;
	case JIRA_ERR_NOT_FOUND: return ENOENT;
	case JIRA_ERR_CONFLICT: return EBUSY;
	case JIRA_ERR_TOO_LARGE: return EFBIG;
	case JIRA_ERR_RATE_LIMITED: return EIO;
	case JIRA_ERR_SERVER: return EIO;
	case JIRA_ERR_BAD_RESPONSE: return EIO;
	case JIRA_ERR_PROTOCOL: return EIO;
	case JIRA_ERR_TIMEOUT: return ETIMEDOUT;
	case JIRA_ERR_UNREACHABLE: return EIO;
	case JIRA_ERR_TLS: return EIO;
	case JIRA_ERR_CAPTCHA: return EACCES;
	case JIRA_ERR_AUTH_DISABLED: return EACCES;
	case JIRA_ERR_NOMEM: return ENOMEM;
	case JIRA_ERR_INTERNAL: return EIO;
	case JIRA_ERR_LOOKUP: return EIO;
	}
	return EIO;
}

int fs_refuse(int err, const char *what, const char *path, const char *why)
{
	jlog_notice("refused %s %s: %s", what, path, why);
	return err;
}
