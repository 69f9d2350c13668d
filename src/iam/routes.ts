import { createToken } from './create-token.ts';
import { listProjects } from './list-projects.ts';
import { listUserProjects } from './list-user-projects.ts';
import { listUsers } from './list-users.ts';
import type { IamRoute } from './route.ts';
import { showCatalog } from './show-catalog.ts';
import { showProject } from './show-project.ts';
import { showVersion } from './show-version.ts';
import { validateToken } from './validate-token.ts';

/** The IAM endpoints kmsd serves on its own port, because every SDK needs them. */
export const IAM_ROUTES: readonly IamRoute[] = [showVersion, createToken, validateToken, listProjects, listUsers, listUserProjects, showCatalog, showProject];
