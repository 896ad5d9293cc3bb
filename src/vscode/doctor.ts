/** Run Doctor: the kind checks under a cancellable progress, findings in the log, a summary with actions. */
import * as vscode from 'vscode';
import { formatDoctorReport, type DoctorReport } from '../kind/doctor';
import { checkPrerequisites, type DoctorResult } from '../operations/doctor';
import { Config, type Settings } from './config';
import { isCancel, withCancellableProgress } from './progress';

/** Runs the doctor, logs every finding and tells the user the outcome; undefined when cancelled. */
export async function doctorCommand(
  settings: Settings,
  log: vscode.LogOutputChannel,
): Promise<DoctorReport | undefined> {
  let report: DoctorResult;
  try {
    report = await withCancellableProgress('Model Canary: checking kind prerequisites', (signal) =>
      checkPrerequisites(
        { kindPath: settings.kindPath, clusterName: settings.clusterName, hostPort: settings.routerPort },
        { signal },
      ),
    );
  } catch (err) {
    if (isCancel(err)) return undefined;
    throw err;
  }
  log.info(`doctor (kind binary: ${report.kindBinary}):\n${formatDoctorReport(report)}`);
  void summarise(report, settings, log);
  return report;
}

async function summarise(
  report: DoctorReport,
  settings: Settings,
  log: vscode.LogOutputChannel,
): Promise<void> {
  const errors = report.findings.filter((f) => f.status === 'error');
  const warnings = report.findings.filter((f) => f.status === 'warning');
  if (errors.length === 0) {
    const note = warnings.length
      ? ` (${warnings.length} warning(s): ${warnings.map((w) => w.title).join(', ')})`
      : '';
    void vscode.window.showInformationMessage(
      `Model Canary doctor: ready to create kind cluster "${settings.clusterName}"${note}.`,
    );
    return;
  }
  const first = errors[0]!;
  const more = errors.length > 1 ? ` (+${errors.length - 1} more problem(s), see the logs)` : '';
  const choice = await vscode.window.showErrorMessage(
    `Model Canary doctor: ${first.fix ?? first.detail}${more}`,
    'Open Logs',
    'Open Settings',
    'Retry',
  );
  if (choice === 'Open Logs') log.show(true);
  else if (choice === 'Open Settings') void Config.open('modelCanary.kind');
  else if (choice === 'Retry') void vscode.commands.executeCommand('modelCanary.runDoctor');
}
