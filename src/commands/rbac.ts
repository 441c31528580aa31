import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { textFlag } from '../cli/flags.js';
import { logErr } from '../cli/output.js';
import { describeValue } from '../util/describe.js';
import { UserError } from '../util/errors.js';
import { DEFAULT_SUBJECT, parseServiceAccount, rbacNameProblem, subjectNameProblem, type RbacSubject } from '../kube/rbac.js';

function checked(flag: string, problem: (v: string) => string | undefined, expected: string): (v: string) => void {
  return (v) => {
    const why = problem(v);
    if (why) throw new UserError(`--${flag}: ${describeValue(v)}: ${why}; expected ${expected}`);
  };
}

const SA_EXPECTED = 'NAMESPACE:NAME of a service account, such as ops:podnet';

export default class Rbac extends BaseCommand {
  static override summary = 'Print the minimal ClusterRole and bindings podnet needs through the Kubernetes API';
  static override description =
    'Prints, as YAML for kubectl apply, the ClusterRole podnet needs to work through the API (nodes; its own namespaces, helper pods and their exec sessions and events; nodes/status for up), a Role in kube-system that reads only the kubeadm-config ConfigMap, and the bindings of both to a user, group or service account (default: the User "podnet"). Each rule says which command needs it. Whoever holds these is root on every node: the helper pods are privileged.';
  static override examples = [
    '<%= config.bin %> rbac --user alice | kubectl apply -f -',
    '<%= config.bin %> rbac --group sre --service-account ops:podnet',
    '<%= config.bin %> rbac --no-node-status --json',
  ];
  static override flags = {
    user: textFlag({ description: 'bind to this user (repeatable)', multiple: true, expected: 'a user name as the API authenticates it', helpValue: 'NAME', check: checked('user', subjectNameProblem, 'a user name') }),
    group: textFlag({ description: 'bind to this group (repeatable)', multiple: true, expected: 'a group name as the API authenticates it', helpValue: 'NAME', check: checked('group', subjectNameProblem, 'a group name') }),
    'service-account': textFlag({
      description: 'bind to this service account, for podnet run in a pod (repeatable)',
      multiple: true,
      expected: SA_EXPECTED,
      helpValue: 'NAMESPACE:NAME',
      check: checked('service-account', (v) => {
        const sa = parseServiceAccount(v);
        return typeof sa === 'string' ? sa : undefined;
      }, SA_EXPECTED),
    }),
    name: textFlag({ description: 'name of the ClusterRole, the Role and their bindings', default: 'podnet', expected: 'an RBAC object name such as podnet', check: checked('name', rbacNameProblem, 'an RBAC object name such as podnet') }),
    'node-status': Flags.boolean({ description: 'include patching nodes/status (the NetworkUnavailable condition up sets); --no-node-status leaves it out, for up --no-node-status', default: true, allowNo: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Rbac);
    const subjects: RbacSubject[] = [
      ...(flags.user ?? []).map((name) => ({ kind: 'User' as const, name })),
      ...(flags.group ?? []).map((name) => ({ kind: 'Group' as const, name })),
      ...(flags['service-account'] ?? []).map((v) => ({ kind: 'ServiceAccount' as const, ...(parseServiceAccount(v) as { namespace: string; name: string }) })),
    ];
    const defaultSubject = subjects.length === 0;
    const options = { name: flags.name, subjects: defaultSubject ? [DEFAULT_SUBJECT] : subjects, nodeStatus: flags['node-status'] };
    const { rbacObjects, renderRbacYaml, selectedRules } = await import('../kube/rbac.js');
    if (defaultSubject && !this.jsonMode) logErr(`note: bound to the User "${DEFAULT_SUBJECT.name}"; name yours with --user, --group or --service-account NAMESPACE:NAME`);
    await this.emit(
      'RbacManifest',
      { defaultSubject, subjects: options.subjects, rules: selectedRules(options), items: rbacObjects(options).map((x) => x.object) },
      () => renderRbacYaml(options, { defaultSubject, bin: this.binName }),
    );
  }
}
