/** The container security context every container of the stack runs with (Pod Security "restricted"). */
export const RESTRICTED_CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
};
