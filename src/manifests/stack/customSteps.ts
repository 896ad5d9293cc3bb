/**
 * Custom Python steps in the stack: a model folder with a `requirements.txt` gets an init
 * container that installs those requirements into a shared emptyDir, and its MLServer runs on
 * that environment. The init container runs the model server's own image (it has Python and pip)
 * and builds what the process runtime builds (src/runtime/modelEnv.ts): a virtual environment
 * layered over the image's, so MLServer and its packages stay the image's and only the model's
 * own requirements are downloaded (from PyPI, or PIP_INDEX_URL: the cluster must reach one).
 * Not `pip install --target` + PYTHONPATH: `--target` ignores what the image already has, so it
 * would install a second numpy/pandas ahead of MLServer's own.
 */
import { RESTRICTED_CONTAINER_SECURITY } from './podSecurity';

/** Where the init container builds the environment; the MLServer container runs from it. */
export const STEP_ENV_MOUNT = '/mnt/python';
const ENV_DIR = `${STEP_ENV_MOUNT}/env`;

// A fixed script: no user data is interpolated (the requirements file is read by pip).
const BUILD_ENV = [
  'set -eu',
  'mkdir -p "$TMPDIR"',
  `python3 -m venv --without-pip ${ENV_DIR}`,
  `site=$(${ENV_DIR}/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")`,
  `shared=$(python3 -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")`,
  'printf "import site; site.addsitedir(%s)\\n" "\'$shared\'" > "$site/_model_canary_mlserver.pth"',
  `${ENV_DIR}/bin/python -m pip install --no-cache-dir --disable-pip-version-check --no-input --progress-bar off --requirement /mnt/models/requirements.txt`,
  `printf '#!${ENV_DIR}/bin/python\\nimport sys\\nfrom mlserver.cli import main\\nsys.argv[0] = "mlserver"\\nsys.exit(main())\\n' > ${ENV_DIR}/bin/mlserver`,
  `chmod 0755 ${ENV_DIR}/bin/mlserver`,
].join('\n');

/** The init container that installs a custom step's requirements (after the model is fetched). */
export function requirementsInitContainer(image: string): Record<string, unknown> {
  return {
    name: 'install-requirements',
    image,
    command: ['/bin/sh', '-c', BUILD_ENV],
    env: [
      // pip's temporary files and cache go to the shared volume: the root filesystem is read-only.
      { name: 'TMPDIR', value: `${STEP_ENV_MOUNT}/tmp` },
      { name: 'HOME', value: `${STEP_ENV_MOUNT}/tmp` },
    ],
    volumeMounts: [
      { name: 'model', mountPath: '/mnt/models', readOnly: true },
      { name: 'python', mountPath: STEP_ENV_MOUNT },
    ],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    securityContext: { ...RESTRICTED_CONTAINER_SECURITY, readOnlyRootFilesystem: true },
  };
}

/** What the MLServer container of a custom step with requirements adds: its command and the volume. */
export function customStepServer(): {
  command: string[];
  volumeMount: Record<string, unknown>;
  volume: Record<string, unknown>;
} {
  return {
    command: [`${ENV_DIR}/bin/mlserver`, 'start', '/mnt/models'],
    volumeMount: { name: 'python', mountPath: STEP_ENV_MOUNT, readOnly: true },
    volume: { name: 'python', emptyDir: { sizeLimit: '2Gi' } },
  };
}

/** The files of a custom runtime a remote cluster downloads besides model-settings.json: its module and requirements. */
export function customStepFiles(implementation: string, hasRequirements: boolean): string[] {
  const module = implementation.includes('.') ? implementation.slice(0, implementation.lastIndexOf('.')) : '';
  return [
    ...(module ? [`${module.split('.').join('/')}.py`] : []),
    ...(hasRequirements ? ['requirements.txt'] : []),
  ];
}
