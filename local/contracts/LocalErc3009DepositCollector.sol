// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

interface IReceiveWithAuthorization {
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        bytes memory signature
    ) external;
}

/**
 * @title LocalErc3009DepositCollector
 * @notice The x402 batch-settlement ERC-3009 deposit collector for the LOCAL test chain, written
 * from the deposit encoding in the x402 EVM package (npm): the payer signs a
 * `ReceiveWithAuthorization` to this collector with nonce `keccak256(abi.encode(channelId, salt))`,
 * so the authorization can only fund that one channel; `collectorData` is
 * `abi.encode(validAfter, validBefore, salt, signature)`. Only the batch-settlement contract may
 * call it (it credits the channel); the tokens go straight on to that contract.
 *
 * Installed at the canonical address 0x4020806089470a89826cB9fB1f4059150b550004 with
 * `hardhat_setCode` (no constructor, no storage).
 */
contract LocalErc3009DepositCollector {
    using SafeERC20 for IERC20;

    /// @notice The canonical batch-settlement contract (where the local chain installs LocalBatchSettlement).
    address public constant BATCH_SETTLEMENT = 0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003;

    error OnlyBatchSettlement();

    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata collectorData) external {
        if (msg.sender != BATCH_SETTLEMENT) revert OnlyBatchSettlement();
        (uint256 validAfter, uint256 validBefore, uint256 salt, bytes memory signature) =
            abi.decode(collectorData, (uint256, uint256, uint256, bytes));
        bytes32 nonce = keccak256(abi.encode(channelId, salt));
        IReceiveWithAuthorization(token).receiveWithAuthorization(payer, address(this), amount, validAfter, validBefore, nonce, signature);
        IERC20(token).safeTransfer(msg.sender, amount);
    }
}
