#include "exec_status.h"

#include <stddef.h>

Sbx__ExecStatus sbx_exec_status_shown(Sbx__ExecStatus st)
{
	return st == SBX__EXEC_STATUS__EXEC_STATUS_STOPPED ? SBX__EXEC_STATUS__EXEC_STATUS_SIGNALED
							   : st;
}

void sbx_exec_result_show(Sbx__ExecResult *res)
{
	if (res)
		res->status = sbx_exec_status_shown(res->status);
	if (res && res->compile)
		res->compile->status = sbx_exec_status_shown(res->compile->status);
}
