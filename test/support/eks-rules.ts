import { dns1123LabelProblem, dns1123SubdomainProblem, labelValueProblem, qualifiedNameProblem } from './kubernetes-rules.js';

/**
 * What the EKS API would refuse in the properties CloudFormation sends for the EKS resources of a
 * template (values already resolved to strings where they are parameters), as
 * `LogicalId (Type): Property: message` strings:
 * - AWS::EKS::Nodegroup Labels and Taints: CreateNodegroup / UpdateLabelsPayload (label key and
 *   value 1-63 characters), Taint (key 1-63, value 0-63, effect NO_SCHEDULE | NO_EXECUTE |
 *   PREFER_NO_SCHEDULE, at most 50 per node group), and the Kubernetes label and taint rules the
 *   kubelet applies to the node (IsQualifiedName, IsValidLabelValue);
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html,
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_Taint.html
 * - AWS::EKS::AccessEntry: KubernetesGroups and Username may not start with `system:` (EKS reserves
 *   it; Username also `eks:`, `aws:`, `amazon:`, `iam:`), access scopes of type `namespace` name
 *   namespaces that are DNS labels; Type one of EKS's (STANDARD when absent), access policies only on a
 *   STANDARD entry, each `arn:<partition>:eks::aws:cluster-access-policy/<name>`; PrincipalArn an IAM role or
 *   user, never an STS session (`assumed-role`, "You can't use the STS session principal type");
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html,
 *   https://docs.aws.amazon.com/eks/latest/APIReference/API_AssociateAccessPolicy.html
 * - AWS::EKS::PodIdentityAssociation: Namespace a DNS-1123 label, ServiceAccount a DNS-1123
 *   subdomain (the Kubernetes names they must match);
 * - AWS::EKS::Addon: an add-on name EKS publishes, ConfigurationValues a JSON object.
 */
/** Access entry types (CreateAccessEntry `type`). */
const ACCESS_ENTRY_TYPES = ['STANDARD', 'EC2', 'EC2_LINUX', 'EC2_WINDOWS', 'FARGATE_LINUX', 'HYBRID_LINUX', 'HYPERPOD_LINUX'];

export function eksResourceProblems(logicalId: string, resource: { Type: string; Properties?: Record<string, any> }): string[] {
  const props = resource.Properties ?? {};
  const at = (prop: string, msg: string) => `${logicalId} (${resource.Type}): ${prop}: ${msg}`;
  const out: string[] = [];
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  switch (resource.Type) {
    case 'AWS::EKS::Nodegroup': {
      for (const [k, v] of Object.entries<unknown>(props.Labels ?? {})) {
        if (k.length < 1 || k.length > 63) out.push(at(`Labels[${k}]`, `key must be 1-63 characters (${k.length})`));
        const kp = qualifiedNameProblem(k); if (kp) out.push(at(`Labels[${k}]`, `key ${kp}`));
        const value = str(v);
        if (value === undefined) continue;
        if (value.length < 1 || value.length > 63) out.push(at(`Labels[${k}]`, `value must be 1-63 characters (${value.length})`));
        const vp = labelValueProblem(value); if (vp) out.push(at(`Labels[${k}]`, `value "${value}" ${vp}`));
      }
      const taints: any[] = props.Taints ?? [];
      if (taints.length > 50) out.push(at('Taints', `${taints.length} taints: at most 50 per node group`));
      for (const [i, t] of taints.entries()) {
        if (!t.Key || t.Key.length > 63) out.push(at(`Taints[${i}].Key`, `"${t.Key}" must be 1-63 characters`));
        else { const kp = qualifiedNameProblem(t.Key); if (kp) out.push(at(`Taints[${i}].Key`, kp)); }
        if (t.Value !== undefined) { const vp = labelValueProblem(t.Value); if (vp) out.push(at(`Taints[${i}].Value`, `"${t.Value}" ${vp}`)); }
        if (!['NO_SCHEDULE', 'NO_EXECUTE', 'PREFER_NO_SCHEDULE'].includes(t.Effect)) out.push(at(`Taints[${i}].Effect`, `"${t.Effect}" must be NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE`));
      }
      break;
    }
    case 'AWS::EKS::AccessEntry': {
      for (const g of props.KubernetesGroups ?? []) if (typeof g === 'string' && g.startsWith('system:')) out.push(at('KubernetesGroups', `"${g}": EKS refuses group names starting with system:`));
      const user = str(props.Username);
      if (user && /^(system|eks|aws|amazon|iam):/.test(user)) out.push(at('Username', `"${user}": EKS refuses user names starting with system:, eks:, aws:, amazon: or iam:`));
      const type = str(props.Type) ?? 'STANDARD';
      if (!ACCESS_ENTRY_TYPES.includes(type)) out.push(at('Type', `"${type}" must be one of ${ACCESS_ENTRY_TYPES.join(', ')}`));
      if (type !== 'STANDARD' && (props.AccessPolicies ?? []).length) out.push(at('AccessPolicies', `an access entry of type ${type} takes no access policy (only STANDARD does)`));
      const principal = str(props.PrincipalArn);
      if (principal !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/./.test(principal)) out.push(at('PrincipalArn', `"${principal}" must be an IAM role or user ARN (not an STS session)`));
      for (const [i, p] of (props.AccessPolicies ?? []).entries()) {
        const arn = str(p.PolicyArn);
        if (arn !== undefined && !/^arn:aws[a-z-]*:eks::aws:cluster-access-policy\/[A-Za-z0-9]+$/.test(arn)) out.push(at(`AccessPolicies[${i}].PolicyArn`, `"${arn}" must be arn:<partition>:eks::aws:cluster-access-policy/<name>`));
        const scope = p.AccessScope ?? {};
        if (!['cluster', 'namespace'].includes(scope.Type)) out.push(at(`AccessPolicies[${i}].AccessScope.Type`, `"${scope.Type}" must be cluster or namespace`));
        if (scope.Type === 'namespace' && !(scope.Namespaces ?? []).length) out.push(at(`AccessPolicies[${i}].AccessScope.Namespaces`, 'a namespace scope needs namespaces'));
        if (scope.Type === 'cluster' && (scope.Namespaces ?? []).length) out.push(at(`AccessPolicies[${i}].AccessScope.Namespaces`, 'a cluster scope takes no namespaces'));
        for (const ns of scope.Namespaces ?? []) { const np = typeof ns === 'string' && !ns.includes('*') ? dns1123LabelProblem(ns) : undefined; if (np) out.push(at(`AccessPolicies[${i}].AccessScope.Namespaces`, `"${ns}" ${np}`)); }
      }
      break;
    }
    case 'AWS::EKS::PodIdentityAssociation': {
      const ns = str(props.Namespace);
      if (ns === undefined) out.push(at('Namespace', `unresolved ${JSON.stringify(props.Namespace)}`));
      else { const p = dns1123LabelProblem(ns); if (p) out.push(at('Namespace', `"${ns}" ${p}`)); }
      const sa = str(props.ServiceAccount);
      if (sa === undefined) out.push(at('ServiceAccount', `unresolved ${JSON.stringify(props.ServiceAccount)}`));
      else { const p = dns1123SubdomainProblem(sa); if (p) out.push(at('ServiceAccount', `"${sa}" ${p}`)); }
      break;
    }
    case 'AWS::EKS::Addon': {
      // The AWS add-ons of https://docs.aws.amazon.com/eks/latest/userguide/workloads-add-ons-available-eks.html
      const known = ['vpc-cni', 'coredns', 'kube-proxy', 'eks-pod-identity-agent', 'aws-ebs-csi-driver', 'aws-efs-csi-driver', 'aws-mountpoint-s3-csi-driver', 'snapshot-controller',
        'amazon-cloudwatch-observability', 'aws-guardduty-agent', 'adot', 'eks-node-monitoring-agent', 'aws-network-flow-monitoring-agent', 'aws-fsx-csi-driver', 'aws-secrets-store-csi-driver-provider'];
      if (!known.includes(props.AddonName)) out.push(at('AddonName', `"${props.AddonName}" is not an EKS add-on name`));
      if (props.AddonVersion !== undefined && !/^v\d+\.\d+\.\d+-eksbuild\.\d+$/.test(props.AddonVersion)) out.push(at('AddonVersion', `"${props.AddonVersion}" is not an add-on version (vX.Y.Z-eksbuild.N)`));
      if (props.ConfigurationValues !== undefined) {
        try {
          const v = JSON.parse(props.ConfigurationValues);
          if (!v || typeof v !== 'object' || Array.isArray(v)) out.push(at('ConfigurationValues', 'must be a JSON object'));
        } catch { out.push(at('ConfigurationValues', 'is not JSON')); }
      }
      break;
    }
    default: break;
  }
  return out;
}
